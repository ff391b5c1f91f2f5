import type { AnalysisSpec, MetricCheck, Step } from '../core/definition.js';
import { combineVerdicts, type CheckResult, type Measurement } from '../core/gate.js';
import type { GateEvaluator } from '../core/ports.js';
import type { Release } from '../core/release.js';
import type { AlertGate } from './alertmanager.js';
import { BUILTIN_METRICS, REQUEST_COUNT } from './builtin-metrics.js';
import { measureJudge } from './judge-gate.js';
import { gateOnTraffic, judgeMetric, judgeRequestCount, thresholdText } from './metric-verdict.js';
import type { MetricProvider, QueryOutcome } from './query-outcome.js';
import { queryVariables, renderQuery, stableQueryVariables, type QueryVariables } from './render-query.js';
import { callWebhookGate, type WebhookGateOptions } from './webhook-gate.js';

export interface GateEvaluatorOptions {
  /** The Prometheus provider (createPrometheusProvider); without one every metric is an `error`. */
  metrics?: MetricProvider;
  /** The Alertmanager gate (createAlertmanagerGate); without one, `alerts` act only through the alert webhooks. */
  alerts?: AlertGate;
  /** Per-definition providers (analysis.provider overrides); take precedence over `metrics` and `alerts`. */
  providers?: {
    metricsFor(definition: Release['definition']): MetricProvider | undefined;
    alertsFor(definition: Release['definition']): AlertGate | undefined;
  };
  webhook?: WebhookGateOptions;
  now?: () => number;
}

/** The GateEvaluator port over Prometheus, Alertmanager and webhook gates. Never throws for an outage. */
export function createGateEvaluator(options: GateEvaluatorOptions): GateEvaluator {
  const now = options.now ?? Date.now;
  const providerFor = (release: Release): MetricProvider | undefined => (options.providers ? options.providers.metricsFor(release.definition) : options.metrics);
  const alertsFor = (release: Release): AlertGate | undefined => (options.providers ? options.providers.alertsFor(release.definition) : options.alerts);
  const querier = (provider: MetricProvider | undefined) => (promql: string): Promise<QueryOutcome> =>
    provider ? provider.query(promql) : Promise.resolve({ kind: 'error', message: 'no metrics provider configured (PROMETHEUS_URL)' });

  async function measureMetric(query: (promql: string) => Promise<QueryOutcome>, check: MetricCheck, variables: QueryVariables): Promise<Measurement> {
    const builtin = check.query === undefined ? BUILTIN_METRICS[check.name] : undefined;
    const template = check.query ?? builtin?.query;
    const unit = builtin?.unit ?? '';
    const better = builtin?.better ?? 'lower';
    if (template === undefined) {
      return { name: check.name, verdict: 'error', value: null, threshold: thresholdText(check, unit, better), message: `unknown metric "${check.name}" and no query given` };
    }
    let canaryQuery: string;
    let stableQuery: string | undefined;
    try {
      canaryQuery = renderQuery(template, variables);
      if (check.maxDegradation !== undefined) stableQuery = renderQuery(template, stableQueryVariables(variables));
    } catch (error) {
      return { name: check.name, verdict: 'error', value: null, threshold: thresholdText(check, unit, better), query: template, message: (error as Error).message };
    }
    const [canary, stable] = await Promise.all([query(canaryQuery), stableQuery === undefined ? undefined : query(stableQuery)]);
    return judgeMetric({ check, unit, better, query: canaryQuery, canary, ...(stable ? { stable } : {}) });
  }

  async function measureTraffic(query: (promql: string) => Promise<QueryOutcome>, minRequests: number, variables: QueryVariables): Promise<Measurement> {
    const promql = renderQuery(BUILTIN_METRICS[REQUEST_COUNT]!.query, variables);
    return judgeRequestCount(await query(promql), minRequests, promql);
  }

  async function measureAlerts(release: Release): Promise<Measurement[]> {
    const gate = alertsFor(release);
    if (!gate) return [];
    const results = await Promise.all(
      release.definition.alerts.map((source) =>
        gate.check(source).catch((error: unknown): Measurement[] => [
          { name: 'alert:alertmanager', verdict: 'error', value: null, threshold: 'no active matching alert', message: String(error) },
        ]),
      ),
    );
    return results.flat();
  }

  return {
    async evaluate(release: Release, analysis: AnalysisSpec, metrics: MetricCheck[]): Promise<CheckResult> {
      const variables = queryVariables(release, analysis.windowMs);
      const provider = providerFor(release);
      const query = querier(provider);
      // A metric with only a judge is read as samples; one with a min or max also as an instant figure.
      const fixed = metrics.filter((check) => check.judge === undefined || check.min !== undefined || check.max !== undefined);
      const judgedMetrics = metrics.filter((check) => check.judge !== undefined);
      const [fixedMeasurements, judge, traffic, alertMeasurements] = await Promise.all([
        Promise.all(fixed.map((check) => measureMetric(query, check, variables).catch((error: unknown) => unexpected(check.name, error)))),
        judgedMetrics.length > 0
          ? measureJudge({ release, analysis, metrics: judgedMetrics, variables, provider, now: now() }).catch((error: unknown) => unexpected('judge', error))
          : undefined,
        analysis.minRequests > 0 ? measureTraffic(query, analysis.minRequests, variables).catch((error: unknown) => unexpected(REQUEST_COUNT, error)) : undefined,
        measureAlerts(release),
      ]);
      const metricMeasurements = judge ? [...fixedMeasurements, judge] : fixedMeasurements;
      const judged = traffic ? [traffic, ...gateOnTraffic(metricMeasurements, traffic)] : metricMeasurements;
      const measurements = [...judged, ...alertMeasurements];
      return { verdict: combineVerdicts(measurements), measurements, at: now() };
    },

    callWebhook(release: Release, step: Extract<Step, { kind: 'webhook' }>): Promise<CheckResult> {
      return callWebhookGate(release, step, { now, ...options.webhook });
    },
  };
}

/** Our bug, not their outage — still an `error` measurement rather than a crashed tick. */
function unexpected(name: string, error: unknown): Measurement {
  return { name, verdict: 'error', value: null, threshold: '', message: `internal error while measuring: ${error instanceof Error ? error.message : String(error)}` };
}
