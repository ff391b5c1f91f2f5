// The judge as one measurement of a check: each judged metric's samples over the analysis so far,
// canary and baseline from the same range query at the same step, judged and scored by the pure
// judge. An unreachable or refusing Prometheus is an `error`, never a pass.

import type { AnalysisSpec, MetricCheck } from '../core/definition.js';
import type { JudgeDetails, Measurement, Verdict } from '../core/gate.js';
import { judgeMetric, scoreJudged, type JudgedMetric } from '../core/judge/judge-analysis.js';
import { DEFAULT_ANALYSIS_JUDGE } from '../core/judge/judge-spec.js';
import type { Release } from '../core/release.js';
import { BUILTIN_METRICS } from './builtin-metrics.js';
import type { MetricProvider, QueryRange, RangeOutcome } from './query-outcome.js';
import { baselineQueryVariables, renderQuery, type QueryVariables } from './render-query.js';

export const JUDGE_MEASUREMENT = 'judge';

/**
 * The samples the judge reads: from the later of the step's start and the settled traffic change
 * (so they describe the traffic this step put in force) to now, and never less than one window.
 */
export function judgeRange(release: Release, analysis: AnalysisSpec, now: number): QueryRange {
  const settled = (release.trafficChangedAt ?? release.stepStartedAt) + Math.max(0, release.definition.target.settleMs);
  const began = Math.max(release.stepStartedAt, settled);
  return { startMs: Math.min(began, now - analysis.windowMs), endMs: now, stepMs: (analysis.judge ?? DEFAULT_ANALYSIS_JUDGE).stepMs };
}

function shown(value: number | null): string {
  return value === null ? 'none' : String(Number(value.toPrecision(4)));
}

/** `request-duration-p99 high (shift 24.1 [20.3, 27.9], meanRatio 1.2)` for each metric that did not pass. */
function problems(metrics: readonly JudgedMetric[]): string {
  return metrics
    .filter((m) => m.classification !== 'pass')
    .map((m) => {
      if (!m.interval) return `${m.name} ${m.classification}${m.critical ? ' (critical)' : ''}: ${m.reason}`;
      return `${m.name} ${m.classification}${m.critical ? ' (critical)' : ''} (shift ${shown(m.estimate)} [${shown(m.interval[0])}, ${shown(m.interval[1])}], ${m.measure} ${shown(m.effectSize)})`;
    })
    .join('; ');
}

function errorMetric(metric: MetricCheck, message: string): JudgedMetric {
  const empty = { count: 0, dropped: 0, mean: null };
  const spec = metric.judge!;
  return {
    name: metric.name,
    group: spec.group,
    direction: spec.direction,
    measure: spec.effectSize.measure,
    confidence: spec.confidence,
    classification: 'error',
    critical: false,
    missingRequired: false,
    interval: null,
    estimate: null,
    effectSize: null,
    reason: message,
    control: empty,
    experiment: empty,
  };
}

const samplesOf = (outcome: RangeOutcome): number[] => (outcome.kind === 'samples' ? outcome.values : []);

export interface JudgeGateInput {
  release: Release;
  analysis: AnalysisSpec;
  /** The metrics that carry `judge`. */
  metrics: readonly MetricCheck[];
  variables: QueryVariables;
  provider: MetricProvider | undefined;
  now: number;
}

export async function measureJudge(input: JudgeGateInput): Promise<Measurement> {
  const { release, analysis, metrics, variables, provider } = input;
  const scoring = analysis.judge ?? DEFAULT_ANALYSIS_JUDGE;
  const range = judgeRange(release, analysis, input.now);
  const threshold = `score >= ${scoring.thresholds.pass} (marginal >= ${scoring.thresholds.marginal})`;
  const baselineVariables = baselineQueryVariables(variables);
  const queries: JudgeDetails['queries'] = {};
  const errors: string[] = [];

  const judged = await Promise.all(
    metrics.map(async (metric): Promise<JudgedMetric> => {
      const template = metric.query ?? BUILTIN_METRICS[metric.name]?.query;
      if (template === undefined) return errorMetric(metric, `unknown metric "${metric.name}" and no query given`);
      let canaryQuery: string;
      let baselineQuery: string;
      try {
        canaryQuery = renderQuery(template, variables);
        baselineQuery = renderQuery(template, baselineVariables);
      } catch (error) {
        return errorMetric(metric, (error as Error).message);
      }
      queries[metric.name] = { canary: canaryQuery, baseline: baselineQuery };
      if (!provider?.queryRange) return errorMetric(metric, 'no metrics provider with range queries configured (PROMETHEUS_URL)');
      const [canary, baseline] = await Promise.all([provider.queryRange(canaryQuery, range), provider.queryRange(baselineQuery, range)]);
      const failed = canary.kind === 'error' ? `canary: ${canary.message}` : baseline.kind === 'error' ? `baseline: ${baseline.message}` : null;
      if (failed) return errorMetric(metric, failed);
      return judgeMetric({ name: metric.name, spec: metric.judge!, control: samplesOf(baseline), experiment: samplesOf(canary) });
    }),
  );

  const report = scoreJudged(judged, scoring);
  for (const metric of judged) if (metric.classification === 'error') errors.push(`${metric.name}: ${metric.reason}`);
  const judge: JudgeDetails = {
    ...report,
    against: baselineVariables['canary.deployment'],
    fromMs: range.startMs,
    toMs: range.endMs,
    stepMs: range.stepMs,
    queries,
  };
  const base = { name: JUDGE_MEASUREMENT, threshold, judge };
  if (errors.length > 0) return { ...base, verdict: 'error', value: null, message: `could not judge ${errors.join('; ')}` };

  const critical = report.reason !== null && judged.some((m) => m.critical && m.classification !== 'pass');
  const verdict: Verdict = report.classification === 'pass' ? 'pass' : report.classification === 'marginal' ? 'inconclusive' : 'fail';
  const listed = problems(judged);
  const why = report.reason && !critical ? [report.reason, listed].filter(Boolean).join('; ') : listed;
  const message = `score ${report.score} against ${judge.against}${verdict === 'pass' ? '' : ` (${verdict === 'inconclusive' ? 'marginal' : 'fails'}, ${threshold})`}${why ? `: ${why}` : ''}`;
  return { ...base, verdict, value: report.score, message, ...(critical ? { critical: true } : {}) };
}
