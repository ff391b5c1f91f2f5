import { decide } from '../core/decide.js';
import type { Effect } from '../core/effect.js';
import type { Input } from '../core/input.js';
import type { Clock } from '../core/ports.js';
import type { Release } from '../core/release.js';
import type { EffectExecutor } from './executor.js';
import { tickJobId } from './jobs.js';
import type { PendingTick, ReleaseStore, StoredRelease } from './release-store.js';

export type ScheduleTick = Extract<Effect, { type: 'schedule-tick' }>;

export interface RunDeps {
  store: ReleaseStore;
  execute: EffectExecutor;
  clock: Clock;
  /** Add the delayed tick job (deterministic id) for a schedule-tick. */
  enqueueTick(release: Release, effect: ScheduleTick, jobId: string): Promise<void>;
  /** After each decision, in memory (for metrics). */
  onDecision?(before: Release, after: Release): void;
  /** After a write made decisions durable: the release as persisted before and now. */
  onPersisted(before: Release, after: Release): Promise<void>;
  /** Due ticks run in this job (no queue round trip) up to this many times. */
  inlineTicks: number;
  /** Counts every input fed to the core (for the engine's stats). */
  counted?: (input: Input) => void;
  /**
   * Renews the per-release lock before a port is asked to act, and throws when it was lost (its
   * lease ran out while this process stalled): another worker may be on the release by now.
   */
  ensureLocked?: () => Promise<void>;
}

/** Effects that only write back, notify or schedule; every other effect asks a port to act. */
const SIDE_EFFECTS = new Set<Effect['type']>(['report', 'notify', 'schedule-tick']);

interface Working {
  release: Release;
  ticks: Record<string, PendingTick>;
  jobs: string[];
}

/**
 * One job's work on one release, under its lock: decide → execute the effects, feeding results back
 * into decide. A decision that asks a port to act is written (state and outbox together) before its
 * effects run, so a crash resumes from it: the re-run repeats that one idempotent effect and never
 * goes back to an earlier step. Decisions that only report, notify or schedule are written with the
 * next one (or at the end of the job); a crash before that repeats them, which is harmless.
 */
export class ReleaseRun {
  /** The record as last written. */
  stored: StoredRelease;
  /** Where the release stands in memory; ahead of `stored` while `dirty`. */
  private readonly working: Working;
  /** Effects decided and not yet run. */
  private pending: Effect[];
  private dirty = false;
  private readonly deps: RunDeps;
  private readonly dueTicks = new Set<string>();

  constructor(stored: StoredRelease, deps: RunDeps) {
    this.stored = stored;
    this.working = { release: stored.release, ticks: { ...stored.ticks }, jobs: [...stored.jobs] };
    this.pending = [...stored.outbox];
    this.deps = deps;
  }

  get release(): Release {
    return this.working.release;
  }

  /** Whether the written outbox lists effects that have run since (the caller clears it on unlock). */
  get outboxStale(): boolean {
    return !this.dirty && this.pending.length === 0 && this.stored.outbox.length > 0;
  }

  hasConsumed(jobId: string): boolean {
    return this.working.jobs.includes(jobId);
  }

  /** Feed one input to the core; returns the core's reply, if any. */
  async apply(input: Input, options: { jobId?: string; tickKeys?: string[] } = {}): Promise<{ ok: boolean; message: string } | undefined> {
    const before = this.working.release;
    this.deps.counted?.(input);
    const out = decide(before, input, this.deps.clock.now());
    const tickKeys = (options.tickKeys ?? []).filter((key) => key in this.working.ticks);
    // The core hands back the same record when nothing changed: nothing to write, unless a tick it
    // consumed must be struck from the record (else recovery would keep re-adding it).
    if (out.next === before && out.effects.length === 0 && tickKeys.length === 0) return out.reply;
    for (const key of tickKeys) delete this.working.ticks[key];
    for (const effect of out.effects) {
      if (effect.type === 'schedule-tick') this.working.ticks[effect.key] = { at: effect.at, jobId: tickJobId(out.next, effect.key) };
    }
    if (options.jobId) this.working.jobs.push(options.jobId);
    this.working.release = out.next;
    this.pending = [...this.pending, ...out.effects];
    this.dirty = true;
    this.deps.onDecision?.(before, out.next);
    if (out.effects.some((effect) => !SIDE_EFFECTS.has(effect.type))) await this.flush();
    return out.reply;
  }

  /** Write the working state if it is ahead of the record. */
  async flush(): Promise<void> {
    if (!this.dirty) return;
    const before = this.stored.release;
    this.stored = await this.deps.store.update(this.stored, {
      release: this.working.release,
      outbox: this.pending,
      jobs: this.working.jobs,
      ticks: this.working.ticks,
    });
    this.working.release = this.stored.release;
    this.working.jobs = [...this.stored.jobs];
    this.dirty = false;
    await this.deps.onPersisted(before, this.stored.release);
  }

  /** Execute the pending effects until none are left, then any ticks already due; then write. */
  async drain(): Promise<void> {
    for (let inline = 0; ; inline++) {
      await this.drainPending();
      if (this.dueTicks.size === 0 || inline >= this.deps.inlineTicks) break;
      const keys = [...this.dueTicks];
      this.dueTicks.clear();
      await this.apply({ type: 'tick' }, { tickKeys: keys });
    }
    await this.flush();
    // Ticks left over when the inline budget ran out go through the queue.
    for (const key of this.dueTicks) {
      const tick = this.working.ticks[key];
      if (tick) await this.deps.enqueueTick(this.release, { type: 'schedule-tick', at: tick.at, key }, tick.jobId);
    }
    this.dueTicks.clear();
  }

  private async drainPending(): Promise<void> {
    while (this.pending.length > 0) {
      const [effect, ...rest] = this.pending as [Effect, ...Effect[]];
      this.pending = rest;
      if (effect.type === 'schedule-tick') {
        const jobId = this.working.ticks[effect.key]?.jobId ?? tickJobId(this.release, effect.key);
        if (effect.at <= this.deps.clock.now() && this.deps.inlineTicks > 0) this.dueTicks.add(effect.key);
        else await this.deps.enqueueTick(this.release, effect, jobId);
        continue;
      }
      await this.deps.ensureLocked?.();
      const result = await this.deps.execute(this.release, effect);
      if (!result) continue;
      // After a failed effect the rest of its batch is moot (the core decides again); only the
      // write-back and scheduling effects still stand.
      const failed = result.type === 'effect-result' && result.outcome !== 'ok';
      if (failed) this.pending = this.pending.filter((e) => SIDE_EFFECTS.has(e.type));
      await this.apply(result);
    }
  }
}
