// Gate adapters for whole-bot tests that are not about the gates: a Prometheus whose every answer
// is healthy (500 requests in the window, p99 20 ms, 100 % success) and an Alertmanager with no
// active alert.

import type { AlertGate } from '../../src/gates/alertmanager.js';
import type { MetricProvider } from '../../src/gates/query-outcome.js';

export const healthyMetrics: MetricProvider = {
  async query(promql) {
    if (promql.includes('increase(')) return { kind: 'value', value: 500, series: 1 };
    if (promql.includes('histogram_quantile')) return { kind: 'value', value: 20, series: 1 };
    return { kind: 'value', value: 100, series: 1 };
  },
};

export const quietAlertmanager: AlertGate = {
  async check() {
    return [{ name: 'alert:alertmanager', verdict: 'pass', value: 0, threshold: 'no active matching alert' }];
  },
};
