// Concurrency limits at the edge: the queue of releases waiting for a slot, durable in Redis (a sorted
// set in arrival order, plus the set of releases admitted but not started yet), and the admission
// pass that applies the pure planAdmission to it. A pass runs under a short Redis lock (one process
// at a time; a pass asked for meanwhile is run again by the holder), when a limited release is
// created, when a release ends, and on every recovery pass, so a restart or a lost job only delays it.
// Every step is idempotent: the start job has a fixed id, a queued release that is in neither set
// (its process died between the create and the ZADD) is put back in line (at the place it took over
// from a superseded release, read from its pending trigger, else at the back), and records that
// ended leave both sets.

import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { isLimited, planAdmission, type AdmissionLimits, type Contender } from '../core/admission.js';
import { CONCURRENCY_WAIT, QUEUED_PHASE } from '../core/decide/queue-wait.js';
import type { Release } from '../core/release.js';
import type { RedisClient } from '../redis/connect-redis.js';
import { slotOf, type ReleaseStore } from './release-store.js';

export interface AdmissionConfig {
  limits: AdmissionLimits;
  /** The tenant a release belongs to (TENANTS_FILE), or null. */
  tenantOf(release: Pick<Release, 'namespace' | 'definition'>): string | null;
}

export interface AdmissionHooks {
  /** Enqueue the release's start job (fixed id: repeating it is harmless). */
  start(release: Release): Promise<void>;
  /** Tell a waiting release what it waits for now. */
  queued(release: Release, sentence: string, blockers: string[]): Promise<void>;
}

const LOCK_MS = 10_000;
export const UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * KEYS: queue, admitted, seq. ARGV: id, place ('' = the back). Puts a release in line once: one that
 * already won a slot is left alone, one already in line keeps its place. Returns its place, or nil.
 */
export const ENQUEUE = `
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return false end
local place = redis.call('ZSCORE', KEYS[1], ARGV[1])
if place then return place end
if ARGV[2] == '' then place = redis.call('INCR', KEYS[3]) else place = ARGV[2] end
redis.call('ZADD', KEYS[1], place, ARGV[1])
return tostring(place)
`;

export class AdmissionQueue {
  private readonly keys: { queue: string; admitted: string; seq: string; lock: string; again: string };

  constructor(
    private readonly redis: RedisClient,
    key: (...parts: string[]) => string,
    private readonly store: ReleaseStore,
    private readonly config: AdmissionConfig,
    private readonly hooks: AdmissionHooks,
    private readonly logger?: Logger,
  ) {
    this.keys = { queue: key('admission', 'queue'), admitted: key('admission', 'admitted'), seq: key('admission', 'seq'), lock: key('admission', 'lock'), again: key('admission', 'again') };
  }

  /** Whether the release must wait for a slot (a limit applies to its namespace or tenant). */
  limits(release: Pick<Release, 'namespace' | 'definition'>): boolean {
    return isLimited(this.config.limits, { namespace: release.namespace, tenant: this.config.tenantOf(release) });
  }

  /**
   * Put a created (phase `queued`) release in line, then admit what fits: at `place` when it takes
   * over a superseded release's place, else at the back. Repeating it is harmless (ENQUEUE).
   */
  async enqueue(release: Release, place: number | null = null): Promise<void> {
    await this.putInLine(release.id, place);
    await this.pass();
  }

  private async putInLine(releaseId: string, place: number | null): Promise<void> {
    await this.redis.eval(ENQUEUE, 3, this.keys.queue, this.keys.admitted, this.keys.seq, releaseId, place === null ? '' : String(place));
  }

  /** Where a release stands in line now: its place (score) and whether it won a slot not yet started. */
  async standing(releaseId: string): Promise<{ place: number | null; admitted: boolean }> {
    const [place, admitted] = await Promise.all([this.redis.zscore(this.keys.queue, releaseId), this.redis.sismember(this.keys.admitted, releaseId)]);
    return { place: place === null ? null : Number(place), admitted: admitted === 1 };
  }

  /** One admission pass (skipped when nothing waits, unless `full`: then queued records are re-checked too). */
  async pass(options: { full?: boolean } = {}): Promise<void> {
    if (!options.full) {
      const [waiting, admitted] = await Promise.all([this.redis.zcard(this.keys.queue), this.redis.scard(this.keys.admitted)]);
      if (waiting === 0 && admitted === 0) return;
    }
    const token = randomUUID();
    if ((await this.redis.set(this.keys.lock, token, 'PX', LOCK_MS, 'NX')) !== 'OK') {
      // The holder runs another pass after its own, so this change is not missed.
      await this.redis.set(this.keys.again, '1', 'PX', LOCK_MS * 3);
      return;
    }
    try {
      do await this.passOnce();
      while ((await this.redis.del(this.keys.again)) > 0);
    } finally {
      await this.redis.eval(UNLOCK, 1, this.keys.lock, token).catch(() => undefined);
    }
  }

  /** The place in line a created release took over, while its pending trigger is still recorded. */
  private async placeTakenOver(release: Release): Promise<number | null> {
    const pending = await this.store.getPending(slotOf(release));
    return pending?.id === release.id ? (pending.place ?? null) : null;
  }

  private contender(release: Release): Contender {
    return { id: release.id, service: release.service, namespace: release.namespace, tenant: this.config.tenantOf(release) };
  }

  private async passOnce(): Promise<void> {
    const live = await this.store.list({ state: 'live', limit: 100_000 });
    const byId = new Map(live.map((release) => [release.id, release]));
    const admitted = new Set(await this.redis.smembers(this.keys.admitted));
    let line = await this.redis.zrange(this.keys.queue, 0, -1);
    const gone = line.filter((id) => !byId.get(id) || byId.get(id)!.phase !== QUEUED_PHASE);
    if (gone.length > 0) await this.redis.zrem(this.keys.queue, ...gone);
    line = line.filter((id) => !gone.includes(id));
    // A queued record in neither set: its process died before it was put in line.
    const lost = live.filter((release) => release.phase === QUEUED_PHASE && release.state === 'pending' && !line.includes(release.id) && !admitted.has(release.id));
    for (const release of lost) {
      await this.putInLine(release.id, await this.placeTakenOver(release));
    }
    // Read back in order: one put back at a place it took over is not at the end.
    if (lost.length > 0) line = (await this.redis.zrange(this.keys.queue, 0, -1)).filter((id) => byId.get(id)?.phase === QUEUED_PHASE);
    const waiting = new Set(line);
    const plan = planAdmission(
      this.config.limits,
      live.filter((release) => !waiting.has(release.id)).map((release) => this.contender(release)),
      line.map((id) => this.contender(byId.get(id)!)),
    );
    for (const id of plan.start) {
      await this.redis.multi().sadd(this.keys.admitted, id).zrem(this.keys.queue, id).exec();
      admitted.add(id);
      this.logger?.info({ releaseId: id }, 'release admitted: a slot is free');
    }
    for (const id of admitted) {
      const release = byId.get(id);
      if (release?.state === 'pending' && release.phase === QUEUED_PHASE) await this.hooks.start(release);
      else await this.redis.srem(this.keys.admitted, id);
    }
    for (const { id, sentence, blockers } of plan.waiting) {
      const release = byId.get(id);
      if (!release || (release.wait?.kind === CONCURRENCY_WAIT && release.wait.sentence === sentence)) continue;
      await this.hooks.queued(release, sentence, blockers);
    }
  }
}

/** A short, job-id-safe digest of a sentence (a queued job is deduplicated per release and sentence). */
export function sentenceDigest(sentence: string): string {
  return createHash('sha256').update(sentence).digest('hex').slice(0, 16);
}
