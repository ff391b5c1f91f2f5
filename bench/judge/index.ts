// Judge benchmark: one metric judged on 1,000-point samples (Mann-Whitney interval and estimate by
// zeroin, effect size, classification) and one check of ten judged metrics, against sorting the same
// two samples — the least any rank test must do — measured in the same run on the same machine.
// Run: npx tsx bench/judge/index.ts   (POINTS, METRICS, ROUNDS, INTERVAL_MS to change the sizes)

import { classifyMetric } from '../../src/core/judge/classify-metric.js';
import { judgeAnalysis, type MetricSamples } from '../../src/core/judge/judge-analysis.js';
import { DEFAULT_METRIC_JUDGE, DEFAULT_THRESHOLDS } from '../../src/core/judge/judge-spec.js';

const POINTS = Number(process.env.POINTS ?? 1_000);
const METRICS = Number(process.env.METRICS ?? 10);
const ROUNDS = Math.max(3, Number(process.env.ROUNDS ?? 30));
/** The analysis interval a check must fit in, many times over (DESIGN §4 example: 30 s). */
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 30_000);
/** A check of all metrics may take at most this share of one interval. */
const SHARE_TARGET = 0.01;

/** Deterministic log-normal-ish latencies: a p99 series with some spread and a few ties. */
function samples(seed: number, centre: number): number[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: POINTS }, () => Math.round(centre * Math.exp(0.25 * (next() + next() + next() - 1.5)) * 10) / 10);
}

/** Median wall time of `run` in ms over ROUNDS runs (after one warm-up). */
function time(run: () => unknown): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function main(): void {
  const control = samples(1, 100);
  const experiment = samples(2, 105);
  const spec = { ...DEFAULT_METRIC_JUDGE, direction: 'increase' as const };
  const check: MetricSamples[] = Array.from({ length: METRICS }, (_, i) => ({
    name: `metric-${i}`,
    spec,
    control: samples(10 + i, 100),
    experiment: samples(100 + i, i % 2 === 0 ? 100 : 120),
  }));

  const sortMs = time(() => [...control, ...experiment].sort((a, b) => a - b));
  const metricMs = time(() => classifyMetric(control, experiment, spec));
  const checkMs = time(() => judgeAnalysis(check, { thresholds: DEFAULT_THRESHOLDS, groups: {} }));
  const verdict = classifyMetric(control, experiment, spec);

  const row = (cells: Array<string | number>): string => cells.map((cell, i) => String(cell).padEnd(i === 0 ? 52 : 14)).join(' ');
  const lines = [
    `judge benchmark: ${POINTS}-point samples, median of ${ROUNDS} rounds, node ${process.version}`,
    '',
    row(['what', 'ms', 'vs sort']),
    row(['baseline: sort both samples (2 × 1,000 values)', sortMs.toFixed(3), '1.0×']),
    row([`one metric judged (${verdict.classification}, interval, estimate, ratio)`, metricMs.toFixed(3), `${(metricMs / sortMs).toFixed(1)}×`]),
    row([`one check of ${METRICS} judged metrics, scored`, checkMs.toFixed(3), `${(checkMs / sortMs).toFixed(1)}×`]),
    '',
    `share of one ${INTERVAL_MS / 1000} s analysis interval used by a check of ${METRICS} metrics: ${((checkMs / INTERVAL_MS) * 100).toFixed(4)} % (target below ${SHARE_TARGET * 100} %): ${checkMs / INTERVAL_MS < SHARE_TARGET ? 'met' : 'NOT met'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (checkMs / INTERVAL_MS >= SHARE_TARGET) process.exitCode = 1;
}

main();
