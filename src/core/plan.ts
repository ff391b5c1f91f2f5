// The step planner: what traffic each step of a definition puts in force, how long it takes at the
// least and what it waits for. `decide` takes its traffic from here, and `canarybot plan` renders it,
// so the dry run and the real release cannot disagree.

import type { AnalysisSpec, Definition, MetricCheck, Step, Strategy } from './definition.js';
import { weightsFor, type TrafficState } from './traffic.js';

export interface PlannedStep {
  index: number;
  step: Step;
  /** Traffic in force while this step runs. */
  traffic: TrafficState;
  minDurationMs: number;
  /** Human labels of what the step waits for, e.g. `analysis ×3 (request-success-rate ≥ 99)`, `approval`. */
  gates: string[];
}

/**
 * Traffic before the first step: all on stable, plus the strategy's standing route (A/B match,
 * preview), shared with the baseline when there is one.
 */
export function initialTraffic(strategy: Strategy, withBaseline = false): TrafficState {
  return {
    weights: weightsFor(0, withBaseline),
    mirrorPercent: 0,
    abMatch: strategy.kind === 'abTest' ? strategy.match : null,
    preview: strategy.kind === 'blueGreen' ? strategy.preview : null,
  };
}

/** Clamp to an integer percentage so weights always sum to 100 and are never negative. */
export function percent(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, Math.round(value)));
}

/** The traffic after `step` runs on top of `before`; unchanged for steps that do not move traffic. */
export function applyStep(before: TrafficState, step: Step): TrafficState {
  if (step.kind === 'setWeight') {
    const canary = percent(step.weight);
    // A weight change ends any mirror: the canary now answers real requests.
    return { ...before, weights: weightsFor(canary, before.weights.baseline !== undefined), mirrorPercent: 0 };
  }
  if (step.kind === 'setMirror') return { ...before, mirrorPercent: percent(step.percent) };
  return before;
}

/** Whether a step changes what the route sends where (and therefore needs a write and a settle). */
export function movesTraffic(step: Step): boolean {
  return step.kind === 'setWeight' || step.kind === 'setMirror';
}

/** The analysis settings a step runs with: spec.analysis with the step's overrides. */
export function stepAnalysis(definition: Definition, step: Extract<Step, { kind: 'analysis' }>): {
  analysis: AnalysisSpec;
  metrics: MetricCheck[];
  neededChecks: number;
} {
  const base = definition.analysis;
  const metrics = step.metrics ?? base.metrics;
  const interval = Math.max(0, base.intervalMs);
  let neededChecks: number;
  if (step.durationMs !== undefined && interval > 0) neededChecks = Math.ceil(step.durationMs / interval);
  else neededChecks = step.count ?? base.count;
  neededChecks = Math.max(1, Math.floor(neededChecks));
  return { analysis: { ...base, count: neededChecks, metrics }, metrics, neededChecks };
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
}

/** `request-success-rate ≥ 99`, `request-duration-p99 ≤ 500`, with the relative threshold when set. */
export function describeMetric(metric: MetricCheck): string {
  const parts: string[] = [];
  if (metric.min !== undefined) parts.push(`≥ ${formatNumber(metric.min)}`);
  if (metric.max !== undefined) parts.push(`≤ ${formatNumber(metric.max)}`);
  if (metric.maxDegradation !== undefined) parts.push(`degradation ≤ ${formatNumber(metric.maxDegradation)}`);
  if (metric.judge) {
    const notes = [...(metric.judge.direction === 'either' ? [] : [`${metric.judge.direction} is bad`]), ...(metric.judge.critical ? ['critical'] : [])];
    parts.push(`judged${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`);
  }
  return parts.length > 0 ? `${metric.name} ${parts.join(', ')}` : metric.name;
}

function plannedStep(definition: Definition, step: Step, index: number, traffic: TrafficState): PlannedStep {
  const settleMs = Math.max(0, definition.target.settleMs);
  switch (step.kind) {
    case 'setWeight':
    case 'setMirror':
      return { index, step, traffic, minDurationMs: settleMs, gates: [] };
    case 'pause':
      return {
        index,
        step,
        traffic,
        minDurationMs: step.durationMs ?? 0,
        gates: step.durationMs === undefined ? ['resume'] : [],
      };
    case 'analysis': {
      const { metrics, neededChecks } = stepAnalysis(definition, step);
      const what = metrics.map(describeMetric);
      if (definition.alerts.length > 0) what.push('alerts');
      const label = `analysis ×${neededChecks}` + (what.length > 0 ? ` (${what.join(', ')})` : '');
      return { index, step, traffic, minDurationMs: neededChecks * Math.max(0, definition.analysis.intervalMs), gates: [label] };
    }
    case 'approval':
      return { index, step, traffic, minDurationMs: 0, gates: ['approval'] };
    case 'webhook':
      return { index, step, traffic, minDurationMs: 0, gates: [`webhook ${step.name}`] };
  }
}

/** Every step of the definition with the traffic it puts in force. */
export function planSteps(definition: Definition): PlannedStep[] {
  let traffic = initialTraffic(definition.strategy, definition.target.baseline !== undefined);
  return definition.strategy.steps.map((step, index) => {
    traffic = applyStep(traffic, step);
    return plannedStep(definition, step, index, traffic);
  });
}

/** The least time the steps can take when every gate passes at once (approvals and untimed pauses count 0). */
export function minimumReleaseMs(plan: PlannedStep[]): number {
  return plan.reduce((total, step) => total + step.minDurationMs, 0);
}
