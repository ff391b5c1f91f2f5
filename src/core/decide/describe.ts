// Human wording for audit entries, reasons and replies. Steps are numbered from 1 for humans.

import type { Step } from '../definition.js';
import type { Measurement } from '../gate.js';
import type { PlannedStep } from '../plan.js';
import type { Actor } from '../release.js';

export function formatDuration(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'setWeight':
      return `setWeight ${step.weight}`;
    case 'setMirror':
      return `setMirror ${step.percent}`;
    case 'pause':
      return step.durationMs === undefined ? 'pause (until resumed)' : `pause ${formatDuration(step.durationMs)}`;
    case 'analysis':
      return 'analysis';
    case 'approval':
      return 'approval';
    case 'webhook':
      return `webhook ${step.name}`;
  }
}

/**
 * Where a release is, for reasons and replies: `step 4 (setWeight 25)` on a traffic step, else the
 * step and the traffic in force, e.g. `step 3 (analysis, canary at 5 %)`.
 */
export function stepLocation(plan: PlannedStep[], index: number): string {
  const current = plan[index];
  if (!current) return `step ${index + 1}`;
  const action = describeStep(current.step);
  if (current.step.kind === 'setWeight' || current.step.kind === 'setMirror') return `step ${index + 1} (${action})`;
  const { weights, mirrorPercent } = current.traffic;
  const traffic = mirrorPercent > 0 && weights.canary === 0 ? `mirror ${mirrorPercent} %` : `canary at ${weights.canary} %`;
  return `step ${index + 1} (${action}, ${traffic})`;
}

export function who(actor: Actor): string {
  return `@${actor.username.replace(/^@/, '')}`;
}

function formatValue(value: number): string {
  return String(Number(value.toFixed(2)));
}

function unitOf(name: string): string {
  if (name.includes('success-rate')) return ' %';
  if (name.includes('duration')) return ' ms';
  return '';
}

const FLIP: Record<string, string> = { '>=': '<', '≥': '<', '>': '≤', '<=': '>', '≤': '>', '<': '≥' };

/** One figure that explains a measurement, e.g. `request-success-rate 70.1 % < 99 %`. */
export function measurementFigure(m: Measurement): string {
  if ((m.judge || m.name === 'judge') && m.message) return `judge ${m.message}`;
  if (m.value === null || !Number.isFinite(m.value)) return `${m.name}: ${m.message ?? `no value (${m.verdict})`}`;
  const match = /^(>=|≥|>|<=|≤|<)\s*(-?\d+(?:\.\d+)?)\s*([^\d\s].*)?$/.exec(m.threshold.trim());
  const op = match?.[1];
  const flipped = op ? FLIP[op] : undefined;
  if (match && flipped && !(match[3] ?? '').includes('stable')) {
    const explicit = (match[3] ?? '').trim();
    const unit = explicit === '' ? unitOf(m.name) : explicit === '%' ? ' %' : ` ${explicit}`;
    return `${m.name} ${formatValue(m.value)}${unit} ${flipped} ${match[2]}${unit}`;
  }
  const stable = m.stableValue !== undefined && m.stableValue !== null ? `, stable ${formatValue(m.stableValue)}` : '';
  return `${m.name} ${formatValue(m.value)} (threshold ${m.threshold}${stable})`;
}
