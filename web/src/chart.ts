// The maths of the release page's inline SVG charts: scales, paths with gaps for missing data,
// round ticks, and the limit a threshold text such as `>= 99` or `<= 500 ms` draws.

export interface Point {
  t: number;
  v: number | null;
}

export type Scale = (value: number) => number;

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** An SVG path through the points; a null value breaks the line (no data is not zero). */
export function linePath(points: Point[], x: Scale, y: Scale): string {
  const parts: string[] = [];
  let pen = false;
  for (const point of points) {
    if (point.v === null || !Number.isFinite(point.v)) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${round(x(point.t))} ${round(y(point.v))}`);
    pen = true;
  }
  return parts.join(' ');
}

/** A stepped path: the value holds until the next point (traffic weights change in steps). */
export function stepPath(points: Point[], x: Scale, y: Scale, until: number): string {
  const parts: string[] = [];
  points.forEach((point, i) => {
    if (point.v === null) return;
    const next = points[i + 1]?.t ?? until;
    parts.push(`${parts.length === 0 ? 'M' : 'L'}${round(x(point.t))} ${round(y(point.v))}`, `L${round(x(next))} ${round(y(point.v))}`);
  });
  return parts.join(' ');
}

/** About `count` round tick values covering [min, max] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const ratio = raw / power;
  const step = (ratio < 1.5 ? 1 : ratio < 3 ? 2 : ratio < 7 ? 5 : 10) * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The fixed limit in a threshold text (`>= 99`, `<= 500 ms`); relative ones (`<= stable + 20%`) draw none. */
export function thresholdLimit(threshold: string): { bound: 'min' | 'max'; value: number } | null {
  const match = /^\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)(?:\s*[a-z%]*)?\s*$/i.exec(threshold);
  if (!match) return null;
  return { bound: match[1]?.startsWith('>') ? 'min' : 'max', value: Number(match[2]) };
}

/** The y range to plot: the values and the threshold, with a little air. */
export function valueDomain(values: Array<number | null>, extra: number[] = []): [number, number] {
  const all = [...values.filter((v): v is number => v !== null && Number.isFinite(v)), ...extra];
  if (all.length === 0) return [0, 1];
  let min = Math.min(...all);
  let max = Math.max(...all);
  if (min === max) {
    min -= Math.abs(min) * 0.1 || 1;
    max += Math.abs(max) * 0.1 || 1;
  }
  const pad = (max - min) * 0.1;
  return [min - pad, max + pad];
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/**
 * The new version's share of traffic over time: the canary's weight until promotion, then 100 %
 * (promotion puts the new image on stable and takes the canary's weight back, which plotted as the
 * canary's weight would look like a rollback).
 */
export function newVersionShare(points: Point[], promotedAt: number | null): Point[] {
  if (promotedAt === null) return points;
  return points.map((point) => (point.t >= promotedAt ? { t: point.t, v: 100 } : point));
}
