// An in-memory ReleaseEngine (our own port) that records what the intake asks of it.

import { isLive, type Release, type ReleaseTrigger } from '../../src/core/release.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import type { AlertRequest, CommandRequest, ReleaseEngine, ReleaseQuery, TriggerResult } from '../../src/engine/api.js';
import { releaseRecord } from '../support/release-fixture.js';
import { testDefinition } from './helpers.js';

export class RecordingEngine implements ReleaseEngine {
  readonly releases: Release[] = [];
  readonly triggers: { trigger: ReleaseTrigger; idempotencyKey?: string }[] = [];
  readonly commands: CommandRequest[] = [];
  triggerResult: TriggerResult = { enqueued: true };

  async get(id: string): Promise<Release | null> {
    return this.releases.find((r) => r.id === id) ?? null;
  }

  async list(query: ReleaseQuery = {}): Promise<Release[]> {
    return this.releases
      .filter((r) => (query.state !== 'live' || isLive(r.state)) && (!query.service || r.service === query.service))
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, query.limit ?? Infinity);
  }

  async findLiveByMergeRequest(projectId: number, iid: number): Promise<Release | null> {
    return (await this.list({ state: 'live' })).find((r) => r.mr?.projectId === projectId && r.mr.iid === iid) ?? null;
  }

  async findLatestByMergeRequest(projectId: number, iid: number): Promise<Release | null> {
    return (await this.list()).find((r) => r.mr?.projectId === projectId && r.mr.iid === iid) ?? null;
  }

  async trigger(trigger: ReleaseTrigger, options?: { idempotencyKey?: string }): Promise<TriggerResult> {
    this.triggers.push({ trigger, ...(options?.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}) });
    return this.triggerResult;
  }

  async command(request: CommandRequest): Promise<void> {
    this.commands.push(request);
  }

  async alert(_alert: AlertRequest): Promise<{ releaseIds: string[] }> {
    return { releaseIds: [] };
  }
  async alertBatch(_alerts: readonly AlertRequest[]): Promise<{ releaseIds: string[] }> {
    return { releaseIds: [] };
  }

}

export function testRelease(change: Partial<Release> = {}): Release {
  const definition = testDefinition();
  return releaseRecord({
    definition,
    service: definition.name,
    namespace: definition.target.namespace,
    image: 'registry.example.com/bookinfo/reviews:bcbb5ec3',
    sha: 'bcbb5ec396a2c0f828686f14fac9b80b780504f2',
    ref: 'master',
    pipeline: { id: 31 },
    mr: { projectId: 5, iid: 1 },
    state: 'awaiting-approval',
    phase: 'waiting',
    stepIndex: 1,
    weights: { stable: 90, canary: 10 },
    traffic: { ...ALL_STABLE, weights: { stable: 90, canary: 10 } },
    createdAt: 1,
    updatedAt: 1,
    ...change,
  });
}
