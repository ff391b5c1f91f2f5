// The `get` table, kubectl-style: NAME, AGE, STATE, STEP, WEIGHTS, WAITING FOR (+ wide columns).
// Pure: rows in, text out.

import type { BoardRelease } from '../engine/board-view.js';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

/** kubectl's age: 45s, 12m, 3h, 5d. */
export function age(fromIso: string, now: number): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

export function weights(traffic: BoardRelease['traffic']): string {
  const parts = [`stable ${traffic.stable}`, `canary ${traffic.canary}`];
  if (traffic.baseline > 0) parts.push(`baseline ${traffic.baseline}`);
  if (traffic.mirror > 0) parts.push(`mirror ${traffic.mirror}`);
  return parts.join(' / ');
}

/** The pinned generic `wait` (sentence, until), else what the state itself waits for, else `-`. */
export function waitingFor(release: BoardRelease, now: number): string {
  if (release.wait) {
    const until = release.wait.until ? ` (until ${release.wait.until.replace('T', ' ').slice(0, 16)} UTC, in ${age(new Date(now).toISOString(), Date.parse(release.wait.until))})` : '';
    return `${release.wait.sentence}${until}`;
  }
  if (release.state === 'awaiting-approval') return 'an approval (/canary approve)';
  if (release.state === 'paused') return 'a resume (/canary resume)';
  if (release.endedAt && release.reason) return release.reason;
  return '-';
}

const COLORS: Record<string, string> = {
  succeeded: '32',
  'rolled-back': '31',
  failed: '31',
  aborted: '31',
  'rolling-back': '31',
  'awaiting-approval': '33',
  paused: '33',
};

export function formatReleases(releases: BoardRelease[], options: { wide: boolean; color: boolean; now: number }): string {
  if (releases.length === 0) return 'No releases.\n';
  const header = ['NAME', 'AGE', 'STATE', 'STEP', 'WEIGHTS', 'WAITING FOR'];
  if (options.wide) header.push('CLUSTER', 'STRATEGY', 'IMAGE', 'RELEASE');
  const rows = releases.map((release) => {
    const step = release.step < 0 ? `-/${release.stepCount}` : `${release.step + 1}/${release.stepCount}`;
    const row = [`${release.namespace}/${release.service}`, age(release.createdAt, options.now), release.state, step, weights(release.traffic), waitingFor(release, options.now)];
    if (options.wide) row.push(release.cluster, release.strategy, release.image, release.id);
    return row;
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[], paint: boolean): string =>
    cells
      .map((cell, column) => {
        const padded = cell.padEnd(widths[column] ?? 0);
        const code = paint && column === 2 ? COLORS[cell] : undefined;
        return code ? `\u001b[${code}m${padded}\u001b[0m` : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(header, false), ...rows.map((row) => line(row, options.color))].join('\n') + '\n';
}
