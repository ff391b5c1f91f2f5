// The Mermaid `xychart-beta` of the new version's share of traffic and success rate over time. GitLab only draws a
// Mermaid block of limited size, so the timeline is downsampled until the block (fences included)
// is under MAX_CHART_CHARS.

import type { TimelinePoint } from '../core/release.js';

export const MAX_CHART_CHARS = 2000;
const MAX_POINTS = 48;

/** Evenly spaced points, always keeping the first and the last. */
function downsample(points: readonly TimelinePoint[], max: number): TimelinePoint[] {
  if (points.length <= max) return [...points];
  if (max <= 1) return points.slice(-1);
  const picked: TimelinePoint[] = [];
  for (let i = 0; i < max; i += 1) {
    const point = points[Math.round((i * (points.length - 1)) / (max - 1))];
    if (point) picked.push(point);
  }
  return picked;
}

function label(ms: number): string {
  const totalSeconds = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return `"${minutes}:${String(seconds).padStart(2, '0')}"`;
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/**
 * The new version's share: the canary's weight until promotion began, 100 % from then on (promotion
 * puts the new image on stable and takes the canary's weight back, which as the canary's weight
 * would look like a rollback).
 */
export function newVersionShare(point: TimelinePoint, promotedAt: number | null): number {
  if (promotedAt !== null && point.at >= promotedAt) return 100;
  return Math.min(100, Math.max(0, point.canaryWeight));
}

function block(points: readonly TimelinePoint[], promotedAt: number | null): string {
  const start = points[0]?.at ?? 0;
  const weights = points.map((p) => round(newVersionShare(p, promotedAt)));
  // Mermaid lines cannot have gaps: a sample without data repeats the last known rate.
  let last: number | null = null;
  const rates = points.map((p) => {
    if (p.successRate !== null && Number.isFinite(p.successRate)) last = Math.min(100, Math.max(0, p.successRate));
    return last;
  });
  const firstKnown = rates.find((r) => r !== null) ?? null;
  const lines = [
    '```mermaid',
    'xychart-beta',
    '  title "Traffic on the new version % (first line) and success rate % (second line)"',
    `  x-axis "elapsed (m:ss)" [${points.map((p) => label(p.at - start)).join(', ')}]`,
    '  y-axis "%" 0 --> 100',
    `  line [${weights.join(', ')}]`,
  ];
  if (firstKnown !== null) lines.push(`  line [${rates.map((r) => round(r ?? firstKnown)).join(', ')}]`);
  lines.push('```');
  return lines.join('\n');
}

/**
 * The chart block, or null when there is nothing to draw yet. `promotedAt`: when promotion began, for
 * a release promoting or promoted (null otherwise).
 */
export function renderProgressChart(timeline: readonly TimelinePoint[], promotedAt: number | null = null): string | null {
  const points = [...timeline].sort((a, b) => a.at - b.at);
  if (points.length < 2) return null;
  let max = MAX_POINTS;
  let text = block(downsample(points, max), promotedAt);
  while (text.length >= MAX_CHART_CHARS && max > 2) {
    max = Math.max(2, Math.floor(max * 0.8));
    text = block(downsample(points, max), promotedAt);
  }
  return text;
}
