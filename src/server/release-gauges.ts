// `canarybot_release_status` and the per-metric analysis gauges, read from the store at scrape: one
// release per service (its newest), so the series stay bounded by the definitions (services ×
// states, services × metrics) however many releases have ended, and every replica reports the same.

import { stepAnalysis } from '../core/plan.js';
import { LIVE_STATES, TERMINAL_STATES, type Release } from '../core/release.js';
import type { ReleaseReader } from '../engine/api.js';
import type { Metrics } from '../metrics.js';

type Target = { service: string; namespace: string; cluster: string };

export interface ReleaseGaugeSamples {
  status: Array<Target & { state: string; value: number }>;
  values: Array<Target & { metric: string; value: number }>;
  thresholds: Array<Target & { metric: string; bound: 'min' | 'max'; value: number }>;
}

const STATES = [...LIVE_STATES, ...TERMINAL_STATES];

/** Measurements that are not a metric of the definition (alerts, webhooks, an evaluator's error). */
function isMetric(name: string): boolean {
  return !name.startsWith('alert:') && !name.startsWith('webhook:') && name !== 'gate';
}

function lastAnalysis(release: Release): Pick<ReleaseGaugeSamples, 'values' | 'thresholds'> {
  const target = { service: release.service, namespace: release.namespace, cluster: release.cluster };
  const record = release.gates.findLast((gate) => release.definition.strategy.steps[gate.stepIndex]?.kind === 'analysis');
  if (!record) return { values: [], thresholds: [] };
  const step = release.definition.strategy.steps[record.stepIndex];
  const checks = step?.kind === 'analysis' ? stepAnalysis(release.definition, step).metrics : [];
  const values: ReleaseGaugeSamples['values'] = [];
  const thresholds: ReleaseGaugeSamples['thresholds'] = [];
  for (const measurement of record.check.measurements) {
    if (!isMetric(measurement.name)) continue;
    if (measurement.value !== null && Number.isFinite(measurement.value)) values.push({ ...target, metric: measurement.name, value: measurement.value });
    const check = checks.find((candidate) => candidate.name === measurement.name);
    if (check?.min !== undefined) thresholds.push({ ...target, metric: check.name, bound: 'min', value: check.min });
    if (check?.max !== undefined) thresholds.push({ ...target, metric: check.name, bound: 'max', value: check.max });
  }
  return { values, thresholds };
}

/** The samples for each service's newest release (pure). */
export function releaseGaugeSamples(newest: Release[]): ReleaseGaugeSamples {
  const samples: ReleaseGaugeSamples = { status: [], values: [], thresholds: [] };
  for (const release of newest) {
    const target = { service: release.service, namespace: release.namespace, cluster: release.cluster };
    for (const state of STATES) samples.status.push({ ...target, state, value: state === release.state ? 1 : 0 });
    const analysis = lastAnalysis(release);
    samples.values.push(...analysis.values);
    samples.thresholds.push(...analysis.thresholds);
  }
  return samples;
}

/** Reads each service's newest release and replaces the gauges' series with theirs. */
export async function refreshReleaseGauges(metrics: Metrics, reader: Pick<ReleaseReader, 'list'>, services: string[]): Promise<void> {
  const newest = (await Promise.all([...new Set(services)].map((service) => reader.list({ service, limit: 1 })))).flat();
  const samples = releaseGaugeSamples(newest);
  metrics.releaseStatus.reset();
  metrics.analysisMetricValue.reset();
  metrics.analysisMetricThreshold.reset();
  for (const { value, ...labels } of samples.status) metrics.releaseStatus.set(labels, value);
  for (const { value, ...labels } of samples.values) metrics.analysisMetricValue.set(labels, value);
  for (const { value, ...labels } of samples.thresholds) metrics.analysisMetricThreshold.set(labels, value);
}
