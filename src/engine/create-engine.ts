import { randomBytes, randomUUID } from 'node:crypto';
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { createRelease } from '../core/create-release.js';
import { CanarybotError } from '../core/errors.js';
import type { Definition } from '../core/definition.js';
import { matchesAll } from '../core/label-matchers.js';
import type { Input } from '../core/input.js';
import type { Ports } from '../core/ports.js';
import type { FreezePeriod } from '../core/windows.js';
import { isLive, type Release, type ReleaseTrigger } from '../core/release.js';
import type { Metrics } from '../metrics.js';
import { closeRedis, redisConnectionsForUrl, type RedisClient, type RedisConnections } from '../redis/connect-redis.js';
import type { AlertRequest, CommandRequest, ReleaseEngine, ReleaseQuery, TriggerResult } from './api.js';
import { AdmissionQueue, sentenceDigest, type AdmissionConfig } from './admission-queue.js';
import { isQueued, QUEUED_PHASE } from '../core/decide/queue-wait.js';
import { supersederPlace } from '../core/admission.js';
import { createExecutor } from './executor.js';
import { cappedBackoff, inputOf, jobOptions, QUEUE_NAME, safeId, type JobData } from './jobs.js';
import { recordTransition } from './record-transition.js';
import { ReleaseRun, type ScheduleTick } from './release-run.js';
import { ReleaseStore, slotOf, SlotTakenError, type PendingTrigger } from './release-store.js';

export interface EngineTiming {
  /** Per-release lock lease, renewed while a job runs (default 10 s). */
  lockTtlMs: number;
  /** BullMQ job lock; a job whose worker died is taken back after it (default 10 s). */
  jobLockMs: number;
  /** How often BullMQ looks for jobs of dead workers (default 5 s). */
  stalledIntervalMs: number;
  /** How often lost ticks and orphaned pending triggers are recovered (default 10 s; 0 = only at start). */
  recoverIntervalMs: number;
}

export interface EngineOptions {
  /** Where Redis is (any mode); `redisUrl` is the shorthand for a single Redis. */
  redis?: RedisConnections;
  redisUrl?: string;
  /** Key prefix for the store and BullMQ (default `canarybot`). */
  prefix?: string;
  ports: Ports;
  /** Current definitions by name; their `alerts` decide which releases an alert hits (else the release's snapshot). */
  definitions?: Definition[];
  logger?: Logger;
  metrics?: Metrics;
  /** Jobs one process runs at once (default 8). */
  concurrency?: number;
  timing?: Partial<EngineTiming>;
  /** Due ticks a job may run itself instead of queueing them (default 16). */
  inlineTicks?: number;
  /**
   * The app projects' GitLab deploy freeze periods, cached (FreezeCalendar): read before each job on a
   * live release, so a freeze added or lifted in GitLab mid-release reaches the core (`freezes` input).
   */
  freezes?: { periods(project: string | number): Promise<FreezePeriod[]> };
  /** Concurrency limits (maxConcurrentReleases per namespace and tenant); none: every release starts at once. */
  admission?: AdmissionConfig | null;
}

export interface Engine extends ReleaseEngine {
  /** Start the workers and recover live releases that have nothing pending. */
  start(): Promise<void>;
  /** Stop taking jobs, let the running ones finish, close connections. */
  close(): Promise<void>;
  /** One recovery pass (start() runs a full one). */
  recover(options?: { full?: boolean }): Promise<void>;
  readonly store: ReleaseStore;
  /** Work done by this process since it was created. */
  stats(): EngineStats;
}

export interface EngineStats {
  /** Queue jobs processed (retries and lock hand-backs included). */
  jobs: number;
  /** Inputs fed to the core, by input type (`tick` counts queued and inline ticks alike). */
  inputs: Record<string, number>;
}

const DEFAULT_TIMING: EngineTiming = { lockTtlMs: 10_000, jobLockMs: 10_000, stalledIntervalMs: 5_000, recoverIntervalMs: 10_000 };
const DEDUPE_TTL_S = 24 * 60 * 60;
/** How long a delivery being admitted is held against a redelivery; admitting takes a few Redis calls. */
const DELIVERY_CLAIM_S = 20;
const DELIVERY_DONE = '1';
/** Alerts matched between two yields to the event loop. */
const ALERT_MATCH_SLICE = 500;
const PENDING_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'paused', 'waiting-children'] as const;

export function createEngine(options: EngineOptions): Engine {
  const prefix = options.prefix ?? 'canarybot';
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const { ports, logger, metrics } = options;
  const clock = ports.clock;
  // Intake and store calls fail after a few retries during an outage (the webhook answers 5xx and
  // GitLab redelivers; a job is retried); the worker's own connection waits it out, as BullMQ needs.
  const connections = options.redis ?? redisConnectionsForUrl(options.redisUrl ?? 'redis://127.0.0.1:6379');
  const redis = connections.open({ maxRetriesPerRequest: 5 });
  redis.on('error', (error) => logger?.warn({ err: error.message }, 'redis connection error'));
  let workerRedis: RedisClient | null = null;
  const store = new ReleaseStore(redis, prefix);
  const queue = new Queue<JobData>(QUEUE_NAME, { connection: redis, prefix });
  queue.on('error', (error) => logger?.warn({ err: error.message }, 'queue error'));
  const execute = createExecutor({ ports, metrics, logger });
  const definitions = new Map((options.definitions ?? []).map((d) => [d.name, d]));
  let worker: Worker<JobData> | null = null;
  let recoverTimer: NodeJS.Timeout | null = null;
  let closed = false;
  const stats: EngineStats = { jobs: 0, inputs: {} };
  const counted = (input: Input): void => {
    stats.inputs[input.type] = (stats.inputs[input.type] ?? 0) + 1;
  };

  const key = (...parts: string[]): string => [prefix, 'engine', ...parts].join(':');

  async function add(data: JobData, jobId: string, delayMs = 0): Promise<void> {
    await queue.add(data.kind, data, jobOptions(data, jobId, delayMs));
  }

  async function enqueueTick(release: Release, effect: ScheduleTick, jobId: string): Promise<void> {
    await add({ kind: 'tick', releaseId: release.id, key: effect.key }, jobId, effect.at - clock.now());
  }

  async function enqueueStart(release: Release): Promise<void> {
    await add({ kind: 'start', releaseId: release.id }, safeId(`${release.id}-${release.attempt}-start`));
  }

  const admission = options.admission
    ? new AdmissionQueue(redis, key, store, options.admission, {
      start: enqueueStart,
      // Per attempt: a retry waiting with the same sentence as its first attempt is told again.
      queued: (release, sentence, blockers) => add({ kind: 'queued', releaseId: release.id, sentence, blockers }, safeId(`${release.id}-${release.attempt}-queued-${sentenceDigest(sentence)}`)),
    }, logger)
    : null;

  /** A release under a concurrency limit is created waiting in line (phase queued), never started by a tick. */
  function newRelease(releaseTrigger: ReleaseTrigger, id: string): Release {
    const release = createRelease(releaseTrigger, id, clock.now());
    return admission?.limits(release) ? { ...release, phase: QUEUED_PHASE } : release;
  }

  /** After the record is created: start it, or put it in line for a slot (at `place` when it took one over). */
  async function startOrQueue(release: Release, place: number | null = null): Promise<void> {
    if (release.phase === QUEUED_PHASE && admission) await admission.enqueue(release, place);
    else await enqueueStart(release);
  }

  /** The place in line a newer image takes over from the live release it supersedes (null: the back). */
  async function placeTakenOver(holder: Release, replaced: PendingTrigger | null): Promise<number | null> {
    const carried = replaced?.place ?? null;
    if (!admission) return carried;
    const waiting = isQueued(holder);
    return supersederPlace({ waiting, ...(waiting ? await admission.standing(holder.id) : { place: null, admitted: false }) }, carried);
  }

  async function admissionPass(full: boolean): Promise<void> {
    await admission?.pass({ full }).catch((error: Error) => logger?.warn({ err: error.message }, 'admission pass failed (the next recovery pass retries)'));
  }

  /** Start the trigger queued behind a slot's live release, once the slot is free. */
  async function startPending(slot: string): Promise<void> {
    const pending = await store.getPending(slot);
    if (!pending) return;
    const release = newRelease(pending.trigger, pending.id);
    const created = await store.create(release);
    if (!created.ok) {
      // Someone else took the slot first: queue behind that release instead.
      await queueBehind(created.holder, pending);
      return;
    }
    await startOrQueue(release, pending.place ?? null);
    await store.clearPending(slot, pending.id);
  }

  async function queueBehind(holderId: string, pending: PendingTrigger): Promise<void> {
    const data: JobData = { kind: 'supersede', releaseId: holderId, byReleaseId: pending.id, image: pending.trigger.image };
    await add(data, safeId(`${holderId}-supersede-${pending.id}`));
  }

  function onDecision(before: Release, after: Release): void {
    recordTransition(metrics, before, after, clock.now());
  }

  async function onPersisted(before: Release, after: Release): Promise<void> {
    if (isLive(before.state) && !isLive(after.state)) {
      logger?.info({ releaseId: after.id, state: after.state, reason: after.reason }, 'release ended');
      await startPending(slotOf(after));
      await admissionPass(false);
    }
  }

  /** A retry under a concurrency limit goes through admission like a new release. */
  function admissionAware(input: Input, release: Release): Input {
    if (input.type !== 'command' || input.verb !== 'retry' || !admission?.limits(release)) return input;
    return { ...input, limited: true };
  }

  /**
   * A retry under a concurrency limit is written waiting (phase queued): put it in line, at the back (it
   * had its turn; the retry is a new arrival). Also when the job is run again after its process died
   * past the write: ENQUEUE leaves a release already in line or admitted alone.
   */
  async function queueRetry(data: JobData, release: Release): Promise<void> {
    if (admission && data.kind === 'command' && data.verb === 'retry' && isQueued(release)) await admission.enqueue(release);
  }

  async function processJob(job: Job<JobData>, token?: string): Promise<void> {
    const data = job.data;
    stats.jobs++;
    const lockToken = randomUUID();
    const lockedAt = Date.now();
    const locked = await store.lockAndLoad(data.releaseId, lockToken, timing.lockTtlMs);
    if (locked.kind === 'missing') {
      if (data.kind === 'command') await reply(data, { ok: false, message: `There is no release ${data.releaseId}.` });
      return;
    }
    if (locked.kind === 'busy') {
      // Another worker is on this release: come back when its lock should be free.
      await job.moveToDelayed(Date.now() + Math.min(locked.retryInMs, 500) + Math.floor(Math.random() * 25), token);
      throw new DelayedError();
    }
    let lockLost = false;
    // When we last knew the lock was ours (the time the confirming request was sent).
    let confirmedAt = lockedAt;
    const confirm = async (): Promise<void> => {
      const sent = Date.now();
      if (await store.extendLock(data.releaseId, lockToken, timing.lockTtlMs)) confirmedAt = Math.max(confirmedAt, sent);
      else lockLost = true;
    };
    const renew = setInterval(() => void confirm().catch(() => undefined), Math.max(100, Math.floor(timing.lockTtlMs / 3)));
    const ensureLocked = async (): Promise<void> => {
      // Confirmed recently enough that the lease cannot have run out: no round trip. Otherwise this
      // process stalled, and another worker may be on the release: check before acting.
      if (!lockLost && Date.now() - confirmedAt >= timing.lockTtlMs / 2) await confirm();
      if (lockLost) throw new CanarybotError('STORE_CONFLICT', `lost the lock of release ${data.releaseId}`);
    };
    const run = new ReleaseRun(locked.stored, {
      store,
      execute,
      clock,
      enqueueTick,
      onDecision,
      onPersisted,
      counted,
      ensureLocked,
      inlineTicks: options.inlineTicks ?? 16,
    });
    try {
      await run.drain();
      if (job.id && run.hasConsumed(job.id)) {
        await queueRetry(data, run.release);
        return;
      }
      await refreshFreezes(run);
      let outcome: { ok: boolean; message: string } | undefined;
      try {
        outcome = await run.apply(admissionAware(inputOf(data), run.release), { jobId: job.id, tickKeys: data.kind === 'tick' ? [data.key] : [] });
        // A command's outcome is told only once it is written.
        if (data.kind === 'command') await run.flush();
      } catch (error) {
        if (!(error instanceof SlotTakenError) || data.kind !== 'command') throw error;
        // A retry while another release is live for the service: refused, nothing runs.
        await reply(data, { ok: false, message: error.message });
        return;
      }
      if (data.kind === 'command') {
        await reply(data, outcome ?? { ok: true, message: `${data.verb}: done for release ${data.releaseId}.` });
      }
      await run.drain();
      await queueRetry(data, run.release);
    } finally {
      clearInterval(renew);
      await store.finish(data.releaseId, lockToken, run.stored.version, run.outboxStale).catch((error: Error) => {
        logger?.warn({ releaseId: data.releaseId, err: error.message }, 'could not release the release lock');
      });
    }
  }

  /**
   * A release waiting on a window or a freeze has no job until its next re-check (up to 15 min): on
   * each recovery pass, when its project's freeze periods changed, a tick job brings them to it.
   */
  async function nudgeIfFreezesChanged(release: Release): Promise<void> {
    if (!options.freezes || release.freezeOverride != null || (release.wait?.kind !== 'freeze' && release.wait?.kind !== 'window')) return;
    const periods = await options.freezes.periods(release.definition.trigger.project).catch(() => null);
    if (periods === null || JSON.stringify(periods) === JSON.stringify(release.freezes ?? [])) return;
    await add({ kind: 'tick', releaseId: release.id, key: `freezes-${release.version}` }, safeId(`${release.id}-freezes-${release.version}`));
  }

  /** A freeze added or lifted in GitLab reaches the release (the calendar caches; a failed read changes nothing). */
  async function refreshFreezes(run: ReleaseRun): Promise<void> {
    const release = run.release;
    if (!options.freezes || !isLive(release.state) || release.freezeOverride != null) return;
    let periods: FreezePeriod[];
    try {
      periods = await options.freezes.periods(release.definition.trigger.project);
    } catch (error) {
      logger?.warn({ releaseId: release.id, err: (error as Error).message }, 'freeze periods could not be re-read; the last known ones stand');
      return;
    }
    if (JSON.stringify(periods) !== JSON.stringify(release.freezes ?? [])) await run.apply({ type: 'freezes', freezes: periods });
  }

  async function reply(data: Extract<JobData, { kind: 'command' }>, outcome: { ok: boolean; message: string }): Promise<void> {
    if (!data.replyTo) return;
    try {
      await ports.replier.reply(data.replyTo, { ...outcome, releaseId: data.releaseId });
    } catch (error) {
      logger?.warn({ releaseId: data.releaseId, err: (error as Error).message }, 'command reply failed');
    }
  }

  async function recover(recoverOptions: { full?: boolean } = {}): Promise<void> {
    const busy = new Set<string>();
    if (recoverOptions.full) {
      for (const job of await queue.getJobs([...PENDING_STATES], 0, -1)) if (job?.data) busy.add(job.data.releaseId);
    }
    // A queued record is re-checked by a full admission pass: one lost before it was put in line is in
    // neither of the queue's sets, so the quick pass would never see it while this engine runs.
    let queued = false;
    for (const id of await store.liveIds()) {
      const stored = await store.load(id);
      if (!stored || !isLive(stored.release.state)) continue;
      if (isQueued(stored.release)) queued = true;
      const ticks = Object.entries(stored.ticks);
      for (const [tickKey, tick] of ticks) {
        if (!(await queue.getJob(tick.jobId))) await enqueueTick(stored.release, { type: 'schedule-tick', at: tick.at, key: tickKey }, tick.jobId);
      }
      await nudgeIfFreezesChanged(stored.release);
      const idle = recoverOptions.full && !busy.has(id) && ticks.length === 0;
      if (idle || stored.outbox.length > 0) {
        logger?.info({ releaseId: id, state: stored.release.state }, 'recovering release');
        await add({ kind: 'tick', releaseId: id, key: `recover-${stored.version}` }, safeId(`${id}-recover-${stored.version}`));
      }
    }
    for (const slot of await store.pendingSlots()) {
      if (!(await store.liveInSlot(slot))) await startPending(slot);
    }
    await admissionPass(recoverOptions.full === true || queued);
    if (metrics) {
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed');
      for (const [state, count] of Object.entries(counts)) metrics.queueDepth.set({ queue: QUEUE_NAME, state }, count);
    }
  }

  function newId(trigger: ReleaseTrigger): string {
    const name = safeId(trigger.definition.name).slice(0, 40);
    return `${name}-${clock.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  }

  async function trigger(releaseTrigger: ReleaseTrigger, triggerOptions: { idempotencyKey?: string } = {}): Promise<TriggerResult> {
    if (!triggerOptions.idempotencyKey) return admit(releaseTrigger);
    const dedupeKey = key('trigger', triggerOptions.idempotencyKey);
    const claim = await claimDelivery(dedupeKey);
    if (!claim) return { enqueued: false, ignored: 'duplicate delivery' };
    try {
      const result = await admit(releaseTrigger);
      await redis.set(dedupeKey, DELIVERY_DONE, 'EX', DEDUPE_TTL_S);
      return result;
    } catch (error) {
      if ((await redis.get(dedupeKey).catch(() => null)) === claim) await redis.del(dedupeKey).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A delivery is claimed for a short while, and marked done only once its release is admitted: a
   * process killed between the two leaves a claim that lapses, so the redelivery admits it instead of
   * being taken for a duplicate. A caller that finds a live claim waits for its outcome.
   * Returns the claim, or null when the delivery was already admitted.
   */
  async function claimDelivery(dedupeKey: string): Promise<string | null> {
    const claim = `claim:${randomBytes(6).toString('hex')}`;
    const deadline = Date.now() + (DELIVERY_CLAIM_S + 5) * 1000;
    for (;;) {
      if (await redis.set(dedupeKey, claim, 'EX', DELIVERY_CLAIM_S, 'NX')) return claim;
      const holder = await redis.get(dedupeKey);
      if (holder !== null && !holder.startsWith('claim:')) return null;
      if (Date.now() > deadline) throw new Error('another process is still admitting this delivery; try again');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function admit(releaseTrigger: ReleaseTrigger): Promise<TriggerResult> {
    const id = newId(releaseTrigger);
    const release = newRelease(releaseTrigger, id);
    const slot = slotOf(release);
    for (let round = 0; round < 5; round++) {
      const holderId = await store.liveInSlot(slot);
      if (!holderId) {
        const created = await store.create(release);
        if (created.ok) {
          await startOrQueue(release);
          return { enqueued: true };
        }
        continue;
      }
      const holder = await store.get(holderId);
      if (!holder) continue;
      if (holder.image === release.image) return { enqueued: false, ignored: `${release.image} is already rolling out (release ${holder.id})` };
      const queued = await store.getPending(slot);
      if (queued?.trigger.image === release.image) return { enqueued: false, ignored: `${release.image} is already queued (release ${queued.id})` };
      // Read before the supersede job ends the holder: its place in line is then gone.
      const place = await placeTakenOver(holder, queued);
      const pending: PendingTrigger = { id, trigger: releaseTrigger, ...(place === null ? {} : { place }) };
      await store.setPending(slot, pending);
      await queueBehind(holder.id, pending);
      // The live release may have ended before we queued behind it; nobody would start us then.
      if (!(await store.liveInSlot(slot))) await startPending(slot);
      return { enqueued: true };
    }
    throw new Error(`could not admit a release for ${slot}: the slot keeps changing`);
  }

  async function command(request: CommandRequest): Promise<void> {
    const data: JobData = { kind: 'command', ...request };
    await add(data, safeId(`${request.releaseId}-cmd-${randomUUID()}`));
  }

  async function alert(request: AlertRequest): Promise<{ releaseIds: string[] }> {
    return alertBatch([request]);
  }

  /**
   * Dedupe per (alert, release): an alert that was already firing when a release started still
   * aborts it when Alertmanager re-sends it. Live releases are read once per payload and matched in
   * slices that yield to the event loop, so a payload of thousands of alerts keeps the server
   * answering; each release gets one abort job (its first fresh alert) per payload.
   */
  async function alertBatch(requests: readonly AlertRequest[]): Promise<{ releaseIds: string[] }> {
    if (requests.length === 0) return { releaseIds: [] };
    const live = await store.list({ state: 'live', limit: 10_000 });
    const watched = live
      .map((release) => ({ release, sources: (definitions.get(release.definition.name) ?? release.definition).alerts }))
      .filter((entry) => entry.sources.length > 0);
    const hits = new Map<string, { release: Release; requests: AlertRequest[] }>();
    if (watched.length > 0) {
      for (let index = 0; index < requests.length; index++) {
        if (index > 0 && index % ALERT_MATCH_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const request = requests[index]!;
        for (const { release, sources } of watched) {
          if (!sources.some((source) => matchesAll(source.matchers, request.labels))) continue;
          const hit = hits.get(release.id) ?? { release, requests: [] };
          hit.requests.push(request);
          hits.set(release.id, hit);
        }
      }
    }
    for (const { release, requests: matched } of hits.values()) {
      const fresh = await claimAlerts(release.id, matched);
      const first = fresh[0];
      if (!first) continue;
      const data: JobData = { kind: 'alert', releaseId: release.id, name: first.name, labels: first.labels, startsAt: first.startsAt, fingerprint: first.fingerprint };
      try {
        await add(data, safeId(`${release.id}-alert-${first.fingerprint}-${first.startsAt}`));
      } catch (error) {
        // Not enqueued: forget the claims so the sender's retry (or the next repeat) aborts it.
        await redis.del(...fresh.map((request) => alertKey(release.id, request))).catch(() => undefined);
        throw error;
      }
    }
    return { releaseIds: [...hits.keys()] };
  }

  const alertKey = (releaseId: string, request: AlertRequest): string => key('alert', releaseId, request.fingerprint, request.startsAt);

  /** SET NX per (release, alert) in one round trip; the alerts this call claimed first. */
  async function claimAlerts(releaseId: string, requests: AlertRequest[]): Promise<AlertRequest[]> {
    const unique = [...new Map(requests.map((request) => [alertKey(releaseId, request), request])).values()];
    const pipeline = redis.pipeline();
    for (const request of unique) pipeline.set(alertKey(releaseId, request), '1', 'EX', DEDUPE_TTL_S, 'NX');
    const results = (await pipeline.exec()) ?? [];
    const fresh: AlertRequest[] = [];
    results.forEach(([error, value], index) => {
      if (error) throw error;
      if (value === 'OK') fresh.push(unique[index]!);
    });
    return fresh;
  }

  return {
    store,
    stats: () => ({ jobs: stats.jobs, inputs: { ...stats.inputs } }),
    get: (id) => store.get(id),
    list: (query?: ReleaseQuery) => store.list(query),
    findLiveByMergeRequest: (projectId, iid) => store.findLiveByMergeRequest(projectId, iid),
    findLatestByMergeRequest: (projectId, iid) => store.findLatestByMergeRequest(projectId, iid),
    trigger,
    command,
    alert,
    alertBatch,
    recover,
    async start() {
      if (worker || closed) return;
      workerRedis = connections.open({ maxRetriesPerRequest: null });
      workerRedis.on('error', (error) => logger?.warn({ err: error.message }, 'redis connection error'));
      worker = new Worker<JobData>(QUEUE_NAME, processJob, {
        connection: workerRedis,
        prefix,
        concurrency: options.concurrency ?? 8,
        lockDuration: timing.jobLockMs,
        stalledInterval: timing.stalledIntervalMs,
        // A job whose worker was killed is simply run again (its input is applied at most once).
        maxStalledCount: 1_000,
        settings: { backoffStrategy: (attemptsMade: number) => cappedBackoff(attemptsMade) },
      });
      worker.on('error', (error) => logger?.warn({ err: error.message }, 'worker error'));
      worker.on('failed', (job, error) => {
        logger?.warn({ releaseId: job?.data.releaseId, job: job?.name, err: error.message, attempts: job?.attemptsMade }, 'job failed');
      });
      await worker.waitUntilReady();
      await recover({ full: true });
      if (timing.recoverIntervalMs > 0) {
        recoverTimer = setInterval(() => {
          recover().catch((error: Error) => logger?.warn({ err: error.message }, 'recovery pass failed'));
        }, timing.recoverIntervalMs);
        recoverTimer.unref();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (recoverTimer) clearInterval(recoverTimer);
      await worker?.close();
      await queue.close();
      await closeRedis(redis);
      if (workerRedis) await closeRedis(workerRedis);
    },
  };
}
