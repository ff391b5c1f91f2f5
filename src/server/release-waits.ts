// Which live releases stand still and why (their `wait`), for /readyz?verbose and /metrics: a
// blocked rollback must be visible to whoever is on call, not only in the MR note.

import type { ReleaseReader } from '../engine/api.js';
import { isLive } from '../core/release.js';
import type { Metrics } from '../metrics.js';

export interface ReleaseWaitSummary {
  id: string;
  service: string;
  cluster: string;
  state: string;
  kind: string;
  sentence: string;
  since: number;
  until: number | null;
  link: string | null;
}

const LIVE_LIMIT = 1_000;

export async function releaseWaits(reader: Pick<ReleaseReader, 'list'>): Promise<ReleaseWaitSummary[]> {
  const live = await reader.list({ state: 'live', limit: LIVE_LIMIT });
  return live.flatMap((release) => {
    const wait = release.wait;
    if (!wait || !isLive(release.state)) return [];
    return [{
      id: release.id,
      service: release.service,
      cluster: release.cluster,
      state: release.state,
      kind: wait.kind,
      sentence: wait.sentence,
      since: wait.since,
      until: wait.until ?? null,
      link: wait.link ?? null,
    }];
  });
}

/** `canarybot_rollback_blocked` and `canarybot_releases_waiting{kind}` from the store's live releases. */
export function recordWaits(metrics: Metrics, waits: ReleaseWaitSummary[]): void {
  metrics.rollbackBlocked.set(waits.filter((wait) => wait.kind === 'rollback-blocked').length);
  metrics.releasesWaiting.reset();
  const byKind = new Map<string, number>();
  for (const wait of waits) byKind.set(wait.kind, (byKind.get(wait.kind) ?? 0) + 1);
  for (const [kind, count] of byKind) metrics.releasesWaiting.set({ kind }, count);
}

/** The `/readyz?verbose` section: blocked rollbacks first, then every other wait. */
export async function waitDetails(reader: Pick<ReleaseReader, 'list'>): Promise<Record<string, unknown>> {
  const waits = await releaseWaits(reader);
  return {
    rollbacksBlocked: waits.filter((wait) => wait.kind === 'rollback-blocked'),
    waiting: waits.filter((wait) => wait.kind !== 'rollback-blocked'),
  };
}
