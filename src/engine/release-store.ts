import type { RedisClient } from '../redis/connect-redis.js';
import type { Definition } from '../core/definition.js';
import type { Effect } from '../core/effect.js';
import { CanarybotError } from '../core/errors.js';
import { isLive, type Release, type ReleaseTrigger } from '../core/release.js';
import type { HistoryPage, HistoryQuery, ReleaseHistory, ReleaseQuery, ReleaseReader } from './api.js';
import { publishReleaseChange, releaseChangesChannel } from './release-changes.js';
import {
  CLEAR_PENDING_SCRIPT,
  CREATE_SCRIPT,
  EXTEND_LOCK_SCRIPT,
  FINISH_SCRIPT,
  LOCK_AND_LOAD_SCRIPT,
  UPDATE_SCRIPT,
} from './store-scripts.js';

/** A scheduled tick the record still expects (kept so a lost job can be re-added on recovery). */
export interface PendingTick {
  at: number;
  jobId: string;
}

/** The record as the engine sees it: the release plus the engine's own bookkeeping. */
export interface StoredRelease {
  release: Release;
  version: number;
  /** Effects decided and persisted but not yet known to be executed (a durable outbox). */
  outbox: Effect[];
  /** Ids of the last jobs whose input this release has consumed (a re-run job is not applied twice). */
  jobs: string[];
  ticks: Record<string, PendingTick>;
}

export type LockResult =
  | { kind: 'locked'; stored: StoredRelease }
  | { kind: 'busy'; retryInMs: number }
  | { kind: 'missing' };

const KEEP_JOB_IDS = 32;

/** A release may not go live again (retry) while another one is live for its slot. */
export class SlotTakenError extends CanarybotError {
  readonly holder: string;

  constructor(releaseId: string, holder: string, slot: string) {
    super('STORE_CONFLICT', `release ${releaseId} cannot go live again: release ${holder} is live for ${slot}`);
    this.holder = holder;
  }
}

/** A trigger queued behind the live release of its slot, started when that one ends. */
export interface PendingTrigger {
  id: string;
  trigger: ReleaseTrigger;
  /** Concurrency limits: the place in line this release takes over from the one it supersedes (absent: the back). */
  place?: number;
}
const DEFAULT_LIST_LIMIT = 100;

/** One live release per slot: the definition's clusters, namespace and service. */
export function slotOf(release: Pick<Release, 'definition' | 'namespace' | 'service'>): string {
  return `${release.definition.target.clusters.join(',')}/${release.namespace}/${release.service}`;
}

/** Release records in Redis: JSON plus a version, compare-and-set on every write, indexes kept in the same script. */
export class ReleaseStore implements ReleaseReader, ReleaseHistory {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  /** Pub/sub channel told of every write (the dashboard's live updates, on every replica). */
  private readonly changes: string;

  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis;
    this.prefix = `${prefix}:store`;
    this.changes = releaseChangesChannel(prefix);
    redis.defineCommand('cbCreate', { numberOfKeys: 6, lua: CREATE_SCRIPT });
    redis.defineCommand('cbUpdate', { numberOfKeys: 3, lua: UPDATE_SCRIPT });
    redis.defineCommand('cbLockLoad', { numberOfKeys: 2, lua: LOCK_AND_LOAD_SCRIPT });
    redis.defineCommand('cbFinish', { numberOfKeys: 2, lua: FINISH_SCRIPT });
    redis.defineCommand('cbExtend', { numberOfKeys: 1, lua: EXTEND_LOCK_SCRIPT });
    redis.defineCommand('cbClearPending', { numberOfKeys: 1, lua: CLEAR_PENDING_SCRIPT });
  }

  key(...parts: Array<string | number>): string {
    return [this.prefix, ...parts].join(':');
  }

  /** Create a release; refused (with the holder's id) when its slot already has a live release. */
  async create(release: Release): Promise<{ ok: true; existed: boolean } | { ok: false; holder: string }> {
    const mrKey = release.mr ? this.key('by-mr', release.mr.projectId, release.mr.iid) : '';
    const { definition, ...rest } = { ...release, version: 1 };
    const [code, holder] = (await this.call('cbCreate', [
      this.key('rel', release.id),
      this.key('all'),
      this.key('live'),
      this.key('slots'),
      mrKey || this.key('by-mr', '-'),
      this.key('by-service', release.service),
      release.id,
      String(release.createdAt),
      JSON.stringify(rest),
      slotOf(release),
      mrKey,
      isLive(release.state) ? '1' : '0',
      JSON.stringify(definition),
    ])) as [number, string];
    // An existing record with this id is the same creation run twice (ids are unique per trigger).
    if (code === 1) await publishReleaseChange(this.redis, this.changes, { id: release.id, version: 1, state: release.state });
    if (code === 1 || code === -1) return { ok: true, existed: code === -1 };
    return { ok: false, holder };
  }

  /**
   * Write `next` if the record is still at `stored.version`; returns the stored record at its new
   * version. A concurrent write is a STORE_CONFLICT (transient: the job is retried on fresh state).
   */
  async update(stored: StoredRelease, next: Partial<Omit<StoredRelease, 'version'>>): Promise<StoredRelease> {
    const merged: StoredRelease = { ...stored, ...next };
    const version = stored.version + 1;
    const release = { ...merged.release, version };
    // The definition is a snapshot taken at creation; it is written again only if it was replaced.
    const { definition, ...rest } = release;
    const definitionJson = definition === stored.release.definition ? '' : JSON.stringify(definition);
    const [code, detail] = (await this.call('cbUpdate', [
      this.key('rel', release.id),
      this.key('live'),
      this.key('slots'),
      release.id,
      String(stored.version),
      JSON.stringify(rest),
      isLive(release.state) ? '1' : '0',
      String(release.createdAt),
      JSON.stringify(merged.outbox),
      JSON.stringify(merged.jobs.slice(-KEEP_JOB_IDS)),
      JSON.stringify(merged.ticks),
      definitionJson,
    ])) as [number, string];
    if (code === 1) {
      await publishReleaseChange(this.redis, this.changes, { id: release.id, version, state: release.state });
      return { ...merged, release, version, jobs: merged.jobs.slice(-KEEP_JOB_IDS) };
    }
    if (code === -1) throw new CanarybotError('STORE_CONFLICT', `release ${release.id} does not exist`);
    if (code === -2) throw new SlotTakenError(release.id, detail, slotOf(release));
    throw new CanarybotError('STORE_CONFLICT', `release ${release.id} changed concurrently (expected version ${stored.version}, found ${detail})`);
  }

  /** Take the per-release lock and load the record in one round trip. */
  async lockAndLoad(id: string, token: string, ttlMs: number): Promise<LockResult> {
    const reply = (await this.call('cbLockLoad', [this.key('rel', id), this.key('lock', id), token, String(ttlMs)])) as Array<
      string | number | null
    >;
    if (reply[0] === -1) return { kind: 'missing' };
    if (reply[0] === 0) return { kind: 'busy', retryInMs: Math.max(10, Number(reply[1])) };
    return { kind: 'locked', stored: parseRecord(reply.slice(1) as Array<string | null>) };
  }

  async extendLock(id: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.call('cbExtend', [this.key('lock', id), token, String(ttlMs)])) === 1;
  }

  /** Release the lock; with `clearOutbox`, also record that the outbox at `version` has been executed. */
  async finish(id: string, token: string, version: number, clearOutbox: boolean): Promise<void> {
    await this.call('cbFinish', [this.key('rel', id), this.key('lock', id), token, String(version), clearOutbox ? '1' : '0']);
  }

  async load(id: string): Promise<StoredRelease | null> {
    const fields = await this.redis.hmget(this.key('rel', id), 'v', 'd', 'o', 'j', 't', 'f');
    if (fields[0] === null) return null;
    return parseRecord(fields);
  }

  async get(id: string): Promise<Release | null> {
    return (await this.load(id))?.release ?? null;
  }

  /** The id of the live release holding a slot, if any. */
  async liveInSlot(slot: string): Promise<string | null> {
    return this.redis.hget(this.key('slots'), slot);
  }

  async liveIds(): Promise<string[]> {
    return this.redis.zrange(this.key('live'), 0, -1);
  }

  async list(query: ReleaseQuery = {}): Promise<Release[]> {
    const limit = Math.max(1, query.limit ?? DEFAULT_LIST_LIMIT);
    const index = query.service ? this.key('by-service', query.service) : query.state === 'live' ? this.key('live') : this.key('all');
    // Filtering the service index by state may drop entries, so read further than the limit then.
    const span = query.service && query.state === 'live' ? -1 : limit - 1;
    const ids = await this.redis.zrevrange(index, 0, span);
    const releases = await this.getMany(ids);
    const wanted = query.state === 'live' ? releases.filter((r) => isLive(r.state)) : releases;
    return wanted.slice(0, limit);
  }

  /**
   * A page of the history, newest first. Filters other than service and dates need the records, so
   * it reads the index in batches until the page is full, at most HISTORY_SCAN records a call (the
   * cursor then points past what was read, and the next page goes on from there).
   */
  async history(query: HistoryQuery): Promise<HistoryPage> {
    const index = query.service ? this.key('by-service', query.service) : this.key('all');
    const cursor = parseCursor(query.before);
    const max = Math.min(query.to ?? Number.POSITIVE_INFINITY, cursor?.at ?? Number.POSITIVE_INFINITY);
    const min = query.from ?? Number.NEGATIVE_INFINITY;
    const matches = historyFilter(query);
    const releases: Release[] = [];
    let offset = 0;
    let last: { at: number; id: string } | null = null;
    while (offset < HISTORY_SCAN) {
      const reply = await this.redis.zrevrangebyscore(index, bound(max), bound(min), 'WITHSCORES', 'LIMIT', offset, HISTORY_BATCH);
      if (reply.length === 0) return { releases, next: null };
      offset += reply.length / 2;
      const entries: Array<{ id: string; at: number }> = [];
      for (let i = 0; i < reply.length; i += 2) entries.push({ id: reply[i] as string, at: Number(reply[i + 1]) });
      // Same-score members come in reverse lexicographic order: past the cursor means a lower score or a smaller id.
      const fresh = entries.filter((e) => !cursor || e.at < cursor.at || (e.at === cursor.at && e.id < cursor.id));
      const loaded = new Map((await this.getMany(fresh.map((e) => e.id))).map((r) => [r.id, r]));
      for (const entry of fresh) {
        last = entry;
        const release = loaded.get(entry.id);
        if (!release || !matches(release)) continue;
        if (releases.length === query.limit) return { releases, next: cursorOf(releases.at(-1) as Release) };
        releases.push(release);
      }
      if (reply.length / 2 < HISTORY_BATCH) return { releases, next: null };
    }
    return { releases, next: last ? `${last.at}-${last.id}` : null };
  }

  async findLiveByMergeRequest(projectId: number, iid: number): Promise<Release | null> {
    const ids = await this.redis.zrevrange(this.key('by-mr', projectId, iid), 0, -1);
    for (const release of await this.getMany(ids)) if (isLive(release.state)) return release;
    return null;
  }

  async findLatestByMergeRequest(projectId: number, iid: number): Promise<Release | null> {
    const [id] = await this.redis.zrevrange(this.key('by-mr', projectId, iid), 0, 0);
    return id ? this.get(id) : null;
  }

  async getPending(slot: string): Promise<PendingTrigger | null> {
    const raw = await this.redis.hget(this.key('pending'), slot);
    return raw ? (JSON.parse(raw) as PendingTrigger) : null;
  }

  /** Queue a trigger behind the slot's live release; a newer one replaces an older one. */
  async setPending(slot: string, pending: PendingTrigger): Promise<void> {
    await this.redis.hset(this.key('pending'), slot, JSON.stringify(pending));
  }

  /** Forget the pending trigger once started, unless a newer one replaced it meanwhile. */
  async clearPending(slot: string, id: string): Promise<void> {
    await this.call('cbClearPending', [this.key('pending'), slot, id]);
  }

  async pendingSlots(): Promise<string[]> {
    return this.redis.hkeys(this.key('pending'));
  }

  private async getMany(ids: string[]): Promise<Release[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.key('rel', id), 'v', 'd', 'f');
    const replies = (await pipeline.exec()) ?? [];
    const releases: Release[] = [];
    for (const [error, fields] of replies) {
      if (error) throw error;
      const [v, d, f] = fields as [string | null, string | null, string | null];
      if (v !== null && d !== null && f !== null) releases.push(parseRelease(v, d, f));
    }
    return releases;
  }

  private call(command: string, args: string[]): Promise<unknown> {
    const fn = (this.redis as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[command];
    if (!fn) throw new CanarybotError('INTERNAL', `store script ${command} is not defined`);
    return fn.apply(this.redis, args);
  }
}

const HISTORY_BATCH = 200;
const HISTORY_SCAN = 5_000;

function bound(value: number): string {
  return value === Number.POSITIVE_INFINITY ? '+inf' : value === Number.NEGATIVE_INFINITY ? '-inf' : String(value);
}

function cursorOf(release: Release): string {
  return `${release.createdAt}-${release.id}`;
}

function parseCursor(cursor: string | undefined): { at: number; id: string } | null {
  const match = cursor ? /^(\d+)-(.+)$/.exec(cursor) : null;
  return match ? { at: Number(match[1]), id: match[2] as string } : null;
}

function historyFilter(query: HistoryQuery): (release: Release) => boolean {
  const user = query.user?.toLowerCase();
  return (release) => {
    if ((query.ended || query.outcome) && isLive(release.state)) return false;
    if (query.outcome && release.state !== query.outcome) return false;
    if (user) {
      const names = [release.triggeredBy?.username, release.mr?.authorUsername, ...release.audit.map((entry) => entry.actor?.username)];
      if (!names.some((name) => name?.toLowerCase() === user)) return false;
    }
    return true;
  };
}

function parseRecord(fields: Array<string | null>): StoredRelease {
  const [v, d, o, j, t, f] = fields;
  const release = parseRelease(v ?? '0', d ?? 'null', f ?? 'null');
  return {
    release,
    version: release.version,
    outbox: JSON.parse(o ?? '[]') as Effect[],
    jobs: JSON.parse(j ?? '[]') as string[],
    ticks: JSON.parse(t ?? '{}') as Record<string, PendingTick>,
  };
}

// Definitions never change once written; parsing each one once per process is enough.
const definitions = new Map<string, Definition>();
const MAX_CACHED_DEFINITIONS = 2_000;

function parseDefinition(json: string): Definition {
  let definition = definitions.get(json);
  if (!definition) {
    if (definitions.size >= MAX_CACHED_DEFINITIONS) definitions.clear();
    definition = JSON.parse(json) as Definition;
    definitions.set(json, definition);
  }
  return definition;
}

function parseRelease(v: string, d: string, f: string): Release {
  return { ...(JSON.parse(d) as Omit<Release, 'definition'>), definition: parseDefinition(f), version: Number(v) };
}
