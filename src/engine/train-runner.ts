// Runs release trains: feeds a run's inputs to the pure train core one at a time, executes the
// member effects through the same executor (and so the same ports and adapters) as a single
// release, evaluates each member's analysis on lane traffic, and keeps the timers of the waits.
// With a store, runs live in Redis: the replica holding a run's lease drives it, and alerts (and
// commands) received by any replica reach it through the run's inbox (see src/core/train/README.md).

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createRelease } from '../core/create-release.js';
import type { Definition } from '../core/definition.js';
import { matchesAll } from '../core/label-matchers.js';
import type { Ports } from '../core/ports.js';
import type { Actor, Release } from '../core/release.js';
import { assemble, describeWaiting, type AssemblyEntry } from '../core/train/assembly.js';
import { decideTrain } from '../core/train/decide-train.js';
import type { TrainDefinition } from '../core/train/train-definition.js';
import {
  createTrainRun,
  isTrainLive,
  trainStartProblem,
  type MemberEffectResult,
  type TrainEffect,
  type TrainEventKind,
  type TrainInput,
  type TrainMember,
  type TrainMemberStart,
  type TrainRun,
} from '../core/train/train-run.js';
import type { Metrics } from '../metrics.js';
import { createExecutor } from './executor.js';
import { runTrainGitOps } from './train-gitops-effect.js';
import type { TrainInboxMessage, TrainStore } from './train-store.js';

export interface TrainRunnerTiming {
  /** A live run's lease; a dead process's runs are taken over after it (default 10 s). */
  leaseMs: number;
  /** How often leases are renewed and runs without a live lease are looked for (default 3 s). */
  recoverIntervalMs: number;
  /** How often the driver looks into the inboxes of the runs it drives (default 200 ms). */
  inboxPollMs: number;
  /** How long a command waits for the driver to take it; the driver ignores it afterwards (default 5 s). */
  commandTimeoutMs: number;
}

const DEFAULT_TIMING: TrainRunnerTiming = { leaseMs: 10_000, recoverIntervalMs: 3_000, inboxPollMs: 200, commandTimeoutMs: 5_000 };
/** A command the driver took in time: how much longer its answer is waited for. */
const REPLY_GRACE_MS = 3_000;
const REPLY_POLL_MS = 50;
const REPLY_LOOKS_PER_RUN_CHECK = 5;
/** Messages decided per look into an inbox. */
const INBOX_BATCH = 50;
/** Inbox message ids a run record remembers (a message is decided once). */
const INBOX_HANDLED_KEPT = 50;

/** A firing alert as the webhooks give it; `fingerprint` and `startsAt` dedupe it per run. */
export interface TrainAlert {
  name: string;
  labels: Readonly<Record<string, string>>;
  fingerprint?: string;
  startsAt?: string;
}
/** After a failed write of the record, the run is asked again for what is outstanding. */
const SAVE_RETRY_MS = 2_000;

export interface TrainRunnerOptions {
  ports: Ports;
  definitions: readonly Definition[];
  trains: readonly TrainDefinition[];
  logger?: Logger;
  metrics?: Metrics;
  /** Told after every decision that changed the run (reports, chat, the API). */
  onEvent?: (run: TrainRun, event: TrainEventKind) => void | Promise<void>;
  /** Told after every persisted change, e.g. to write the run to a store. */
  onChange?: (run: TrainRun) => void | Promise<void>;
  /** Whether a member is being released on its own right now (then the train refuses to start). */
  soloReleaseOf?: (service: string) => Promise<string | null>;
  /** Where runs are kept between decisions; absent: in this process only (lost with it). */
  store?: TrainStore;
  timing?: Partial<TrainRunnerTiming>;
}

/**
 * A command's answer. `delivery` says what became of a command no driver answered in time:
 * `not-applied` (it never will be: try again) or `pending` (the driver took it; it may still apply).
 */
export interface TrainCommandAnswer {
  ok: boolean;
  message: string;
  delivery?: 'not-applied' | 'pending';
}

export type TrainStartResult = { ok: true; run: TrainRun } | { ok: false; message: string };

/** What became of a member's pipeline: it started its train, or joined the train's assembly (with why it did not start). */
export interface AssemblyAnswer {
  train: string;
  started: TrainRun | null;
  message: string;
}

/** How long to wait for another process assembling the same train. */
const ASSEMBLY_LOCK_MS = 5_000;

/** The member as a release record, so the executor and the gate evaluator act on its target. */
export function memberRelease(run: TrainRun, member: TrainMember, now: number): Release {
  const release = createRelease(
    { definition: member.definition, image: member.image ?? '', sha: member.sha ?? '', ref: '', pipeline: null, mr: member.mr, actor: run.triggeredBy },
    `${run.id}-${member.name}`,
    now,
  );
  return { ...release, stableImageBefore: member.stableImageBefore, gitops: member.gitops ?? null };
}

export class TrainRunner {
  private readonly runs = new Map<string, TrainRun>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiters = new Map<string, Array<(run: TrainRun) => void>>();
  private readonly execute;
  private readonly timing: TrainRunnerTiming;
  /** Identifies this process's leases. */
  private readonly owner = randomUUID();
  /** Live runs this process drives (holds the lease of). */
  private readonly owned = new Set<string>();
  /** Assemblies when there is no store. */
  private readonly assemblies = new Map<string, Record<string, AssemblyEntry>>();
  private recoverTimer: NodeJS.Timeout | null = null;
  private inboxTimer: NodeJS.Timeout | null = null;
  /** Per run: the look into its inbox in progress (one at a time). */
  private readonly drains = new Map<string, Promise<void>>();
  private closed = false;
  private sequence = 0;

  constructor(private readonly options: TrainRunnerOptions) {
    this.execute = createExecutor({ ports: options.ports, metrics: options.metrics, logger: options.logger });
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  /** Takes over the live runs in the store (after a restart) and keeps doing so for runs whose driver died. */
  async resume(): Promise<void> {
    if (!this.options.store || this.closed || this.recoverTimer) return;
    await this.recover();
    this.recoverTimer = setInterval(() => {
      this.recover().catch((error: Error) => this.options.logger?.warn({ err: error.message }, 'train recovery pass failed'));
    }, this.timing.recoverIntervalMs);
    this.recoverTimer.unref();
    this.inboxTimer = setInterval(() => {
      for (const id of this.owned) if (!this.drains.has(id)) void this.drain(id);
    }, this.timing.inboxPollMs);
    this.inboxTimer.unref();
  }

  /** One pass: renew this process's leases, then take every live run nobody holds. */
  async recover(): Promise<void> {
    const store = this.options.store;
    if (!store || this.closed) return;
    for (const id of [...this.owned]) {
      // Lost: another process took the run over while this one could not renew; it stops here.
      if (!(await store.claim(id, this.owner, this.timing.leaseMs))) this.drop(id);
    }
    for (const id of await store.liveIds()) {
      if (this.owned.has(id) || this.closed) continue;
      if (!(await store.claim(id, this.owner, this.timing.leaseMs))) continue;
      const run = await store.load(id);
      if (!run || !isTrainLive(run.state)) {
        await store.release(id, this.owner);
        continue;
      }
      this.owned.add(id);
      this.runs.set(id, run);
      this.options.logger?.info({ trainRun: id, state: run.state, phase: run.phase }, 'resuming train run');
      void this.send(id, { type: 'recover' });
      // What other replicas handed the dead driver and it did not decide.
      void this.drain(id);
    }
  }

  private drop(id: string): void {
    this.owned.delete(id);
    this.runs.delete(id);
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
  }

  /** A run by id: this process's copy, else the store's. */
  async find(id: string): Promise<TrainRun | undefined> {
    return this.runs.get(id) ?? (await this.options.store?.load(id)) ?? undefined;
  }

  /** Every run, newest first: the store's (every replica's), else this process's. */
  async history(limit = 100): Promise<TrainRun[]> {
    if (!this.options.store) return this.list().slice(0, limit);
    const stored = await this.options.store.list(limit);
    return stored.map((run) => this.runs.get(run.id) ?? run);
  }

  /** The live run of a train, or of the train a service is a member of, wherever it is driven. */
  async findLive(nameOrMember: string): Promise<TrainRun | undefined> {
    const store = this.options.store;
    if (!store) return this.liveFor(nameOrMember);
    for (const id of await store.liveIds()) {
      const run = this.runs.get(id) ?? (await store.load(id));
      if (run && isTrainLive(run.state) && (run.train.name === nameOrMember || run.train.members.includes(nameOrMember))) return run;
    }
    return undefined;
  }

  get trains(): readonly TrainDefinition[] {
    return this.options.trains;
  }

  get definitions(): readonly Definition[] {
    return this.options.definitions;
  }

  /**
   * Firing alerts from the webhooks: an alert matching any member's `alerts` sources rolls that
   * member's live train back as a whole (the core ignores an alert once the run is rolling back),
   * whichever replica drives the run. With a store the alert goes into the run's inbox first (once
   * per alert and run), so it outlives a driver that dies before deciding it; the driver — this
   * process, another replica, or whoever takes the run over — decides it from there.
   */
  async alerts(alerts: ReadonlyArray<TrainAlert>): Promise<string[]> {
    const hit: string[] = [];
    for (const run of await this.liveRuns()) {
      for (const member of run.members) {
        const alert = alerts.find((candidate) => member.definition.alerts.some((source) => matchesAll(source.matchers, candidate.labels)));
        if (!alert) continue;
        await this.deliverAlert(run.id, { type: 'alert', member: member.name, name: alert.name }, alert);
        hit.push(run.id);
        break;
      }
    }
    return hit;
  }

  /** Every live run, wherever it is driven (this process's copy when it drives it). */
  private async liveRuns(): Promise<TrainRun[]> {
    const store = this.options.store;
    if (!store) return this.list().filter((run) => isTrainLive(run.state));
    const runs: TrainRun[] = [];
    for (const id of await store.liveIds()) {
      const run = this.runs.get(id) ?? (await store.load(id));
      if (run && isTrainLive(run.state)) runs.push(run);
    }
    return runs;
  }

  private async deliverAlert(runId: string, input: Extract<TrainInput, { type: 'alert' }>, alert: TrainAlert): Promise<void> {
    const store = this.options.store;
    if (!store) {
      await this.send(runId, input);
      return;
    }
    const dedupe = alert.fingerprint === undefined ? null : `${alert.fingerprint}:${alert.startsAt ?? ''}`;
    if (dedupe !== null && !(await store.claimAlert(runId, dedupe))) return;
    try {
      await store.pushInbox(runId, { id: randomUUID(), input });
    } catch (error) {
      // Not kept: forget the claim, so the sender's retry (or the next repeat) delivers it.
      if (dedupe !== null) await store.forgetAlert(runId, dedupe).catch(() => undefined);
      throw error;
    }
    // Driven here: decided (and recorded) before the webhook is answered.
    if (this.owned.has(runId)) await this.drain(runId);
  }

  /** Decide what is in a run's inbox, one look at a time per run. */
  private drain(id: string): Promise<void> {
    const previous = this.drains.get(id) ?? Promise.resolve();
    const next = previous
      .then(() => this.drainOnce(id))
      .catch((error: unknown) => this.options.logger?.warn({ trainRun: id, err: error instanceof Error ? error.message : String(error) }, 'train inbox not read; trying again'));
    this.drains.set(id, next);
    void next.then(() => {
      if (this.drains.get(id) === next) this.drains.delete(id);
    });
    return next;
  }

  private async drainOnce(id: string): Promise<void> {
    const store = this.options.store;
    if (!store || this.closed || !this.owned.has(id)) return;
    const messages = await store.peekInbox(id, INBOX_BATCH);
    let handled = 0;
    for (const message of messages) {
      if (!(await this.handle(id, message))) break;
      handled += 1;
    }
    await store.trimInbox(id, handled);
  }

  /**
   * One inbox message decided; false: keep it for another look (an alert whose decision was not
   * recorded). A command is decided at most once: only before its deadline, only if its caller has
   * not given up on it, and never retried — its answer (the one sentence the caller gets) is kept
   * for the caller as soon as the decision is recorded.
   */
  private async handle(id: string, message: TrainInboxMessage): Promise<boolean> {
    const store = this.options.store;
    const run = this.runs.get(id);
    if (!store || !run) return false;
    if (message.deadline === undefined) return (await this.decideMessage(id, message)).saved;
    if (run.inboxHandled?.includes(message.id)) return true;
    if (Date.now() > message.deadline) return true;
    if ((await store.takeCommand(message.id, 'driver')) !== 'driver') return true;
    const answer = (reply: { ok: boolean; message: string }): Promise<void> =>
      store.putReply(message.id, reply).catch((error: unknown) => {
        this.options.logger?.warn({ trainRun: id, err: error instanceof Error ? error.message : String(error) }, 'train command answer not kept');
      });
    const outcome = await this.decideMessage(id, message, answer);
    if (!outcome.saved) await answer({ ok: false, message: `train ${run.train.name}: the change could not be recorded; try again` });
    return true;
  }

  /** Decide a message in the run's order; its id is recorded with the decision, so it is decided once. */
  private decideMessage(
    id: string,
    message: TrainInboxMessage,
    recorded?: (reply: { ok: boolean; message: string }) => Promise<void>,
  ): Promise<{ saved: boolean; reply: { ok: boolean; message: string } }> {
    let outcome = { saved: false, reply: { ok: false, message: `no train run ${id}` } };
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      const run = this.runs.get(id);
      if (!run || this.closed) return;
      if (run.inboxHandled?.includes(message.id)) {
        outcome = { saved: true, reply: { ok: true, message: 'already applied' } };
        return;
      }
      const decision = decideTrain(run, message.input, this.options.ports.clock.now());
      const reply = decision.reply ?? { ok: true, message: 'done' };
      const after = decision.next === run ? run : { ...decision.next, inboxHandled: [...(run.inboxHandled ?? []), message.id].slice(-INBOX_HANDLED_KEPT) };
      const saved = await this.commit(run, after, decision.effects, recorded ? () => recorded(reply) : undefined);
      outcome = { saved, reply };
    });
    this.chains.set(id, next.catch(() => undefined));
    return next.then(() => outcome);
  }

  get(id: string): TrainRun | undefined {
    return this.runs.get(id);
  }

  list(): TrainRun[] {
    return [...this.runs.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  /** The live run of a train, or of the train a service is a member of. */
  liveFor(nameOrMember: string): TrainRun | undefined {
    return this.list().find((run) => isTrainLive(run.state) && (run.train.name === nameOrMember || run.train.members.includes(nameOrMember)));
  }

  async start(trainName: string, starts: Record<string, TrainMemberStart>, actor: Actor | null): Promise<TrainStartResult> {
    const train = this.options.trains.find((candidate) => candidate.name === trainName);
    if (!train) return { ok: false, message: `no release train named ${trainName} (trains: ${this.options.trains.map((t) => t.name).join(', ') || 'none'})` };
    const problem = trainStartProblem(train, starts);
    if (problem) return { ok: false, message: problem };
    // One start of a train at a time across replicas, from the live-run check to the saved run
    // (not the assembly's lock: assemble() calls start() while holding that one).
    const lock = `start-${train.name}`;
    const store = this.options.store;
    if (store) {
      try {
        await this.acquire(lock, `the start of train ${train.name}`);
      } catch (error) {
        return { ok: false, message: `${error instanceof Error ? error.message : String(error)}, so nothing was started` };
      }
    }
    try {
      return await this.startLocked(train, starts, actor);
    } finally {
      if (store) await store.release(lock, this.owner).catch(() => undefined);
    }
  }

  /** Wait for a short lock held by another process (or this one), as long as two of its lifetimes. */
  private async acquire(lock: string, what: string): Promise<void> {
    const store = this.options.store!;
    const deadline = Date.now() + ASSEMBLY_LOCK_MS * 2;
    while (!(await store.claim(lock, this.owner, ASSEMBLY_LOCK_MS))) {
      if (Date.now() > deadline) throw new Error(`${what} stayed locked by another process`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async startLocked(train: TrainDefinition, starts: Record<string, TrainMemberStart>, actor: Actor | null): Promise<TrainStartResult> {
    const running = await this.findLive(train.name);
    if (running) return { ok: false, message: `train ${train.name} is already running (${running.id}, ${running.state})` };
    for (const member of train.members) {
      const solo = (await this.options.soloReleaseOf?.(member)) ?? null;
      if (solo) return { ok: false, message: `${member} is being released on its own (${solo}); a train member is not released alone at the same time` };
    }
    const now = this.options.ports.clock.now();
    this.sequence += 1;
    const id = `${train.name}-${now.toString(36)}-${this.sequence}`;
    const run = createTrainRun(train, this.options.definitions, starts, id, now, actor);
    const store = this.options.store;
    if (store) {
      try {
        await store.save(run);
        await store.claim(id, this.owner, this.timing.leaseMs);
      } catch (error) {
        return { ok: false, message: `the run could not be recorded (${error instanceof Error ? error.message : String(error)}), so nothing was started` };
      }
      this.owned.add(id);
    }
    this.runs.set(id, run);
    void this.send(id, { type: 'start' });
    return { ok: true, run };
  }

  /**
   * A member's successful pipeline: it joins its train's assembly, and the train starts once every
   * member has an image from within the window. A train member is never released alone from a
   * pipeline (null: `member` rides in no train, release it as usual).
   */
  async assemble(member: string, pipeline: Omit<AssemblyEntry, 'at'>): Promise<AssemblyAnswer | null> {
    const train = this.options.trains.find((candidate) => candidate.members.includes(member));
    if (!train) return null;
    const store = this.options.store;
    const lock = `assembly-${train.name}`;
    if (store) {
      const deadline = Date.now() + ASSEMBLY_LOCK_MS * 2;
      while (!(await store.claim(lock, this.owner, ASSEMBLY_LOCK_MS))) {
        if (Date.now() > deadline) throw new Error(`train ${train.name}: the assembly stayed locked by another process`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    try {
      const now = this.options.ports.clock.now();
      const entries = store ? await store.loadAssembly(train.name) : (this.assemblies.get(train.name) ?? {});
      const entry: AssemblyEntry = { ...pipeline, at: now };
      const outcome = assemble(train, entries, member, entry);
      const save = async (kept: Record<string, AssemblyEntry>): Promise<void> => {
        if (store) await store.saveAssembly(train.name, kept, train.assembleWindowMs);
        else this.assemblies.set(train.name, kept);
      };
      if (outcome.kind === 'waiting') {
        await save(outcome.entries);
        return { train: train.name, started: null, message: describeWaiting(train, outcome, (at) => new Date(at).toISOString()) };
      }
      const started = await this.start(train.name, outcome.starts, null);
      if (!started.ok) {
        // Kept, so the train can still start from them (by a later pipeline or by hand) within the window.
        await save({ ...entries, [member]: entry });
        return { train: train.name, started: null, message: `every member of train ${train.name} has a new image, but it did not start: ${started.message}` };
      }
      await save({});
      const images = started.run.members.map((m) => `${m.name} ${m.image}`).join(', ');
      return { train: train.name, started: started.run, message: `train ${train.name} started as ${started.run.id} from the members' pipelines: ${images}` };
    } finally {
      if (store) await store.release(lock, this.owner).catch(() => undefined);
    }
  }

  /** Queue an input for a run; inputs of one run are decided one at a time, in order. */
  send(id: string, input: TrainInput): Promise<TrainRun | undefined> {
    let reply: TrainRun | undefined;
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        reply = await this.apply(id, input);
      } catch (error) {
        // Most callers fire and forget: a run that cannot be decided (a record this version cannot
        // read) is said in the log and left as it is, never an unhandled rejection that ends the process.
        this.options.logger?.error({ trainRun: id, input: input.type, err: error instanceof Error ? error.message : String(error) }, 'train run input could not be decided');
        reply = this.runs.get(id);
      }
    });
    this.chains.set(id, next.catch(() => undefined));
    return next.then(() => reply);
  }

  /**
   * A command with its answer for the human. With a store it goes through the run's inbox to the
   * replica driving the run, this one or another, and the driver's answer comes back; with no answer
   * in time the caller is told plainly whether the command was not applied or may still apply.
   */
  async command(id: string, input: Extract<TrainInput, { type: 'command' }>): Promise<TrainCommandAnswer> {
    const store = this.options.store;
    if (!store) return this.commandHere(id, input);
    const run = await this.find(id);
    if (!run) return { ok: false, message: `no train run ${id}` };
    // An ended run has no driver to ask; the core's answer needs none.
    if (!isTrainLive(run.state)) return decideTrain(run, input, this.options.ports.clock.now()).reply ?? { ok: false, message: `train ${run.train.name} has ended (${run.state})` };
    const message: TrainInboxMessage = { id: randomUUID(), input, deadline: Date.now() + this.timing.commandTimeoutMs };
    try {
      await store.pushInbox(id, message);
    } catch (error) {
      return { ok: false, delivery: 'not-applied', message: `train ${run.train.name}: the command could not be handed to the run (${error instanceof Error ? error.message : String(error)}), so it was not applied; try again` };
    }
    if (this.owned.has(id)) void this.drain(id);
    try {
      return await this.awaitAnswer(run, message);
    } catch (error) {
      return {
        ok: false,
        delivery: 'pending',
        message: `train ${run.train.name}: the answer of the replica driving run ${run.id} could not be read (${error instanceof Error ? error.message : String(error)}); the command may still apply — see /canary train status ${run.train.name}`,
      };
    }
  }

  private async awaitAnswer(run: TrainRun, message: TrainInboxMessage): Promise<TrainCommandAnswer> {
    const store = this.options.store!;
    const messageId = message.id;
    const seconds = Math.round(this.timing.commandTimeoutMs / 100) / 10;
    let ended: TrainRun | null = null;
    const answered = async (until: number): Promise<{ ok: boolean; message: string } | null> => {
      for (let look = 1; ; look++) {
        const reply = await store.getReply(messageId);
        if (reply || Date.now() > until) return reply;
        // A run that ends meanwhile has no driver left to read its inbox.
        if (look % REPLY_LOOKS_PER_RUN_CHECK === 0) {
          const current = await store.load(run.id);
          if (current && !isTrainLive(current.state)) {
            ended = current;
            return null;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, REPLY_POLL_MS));
      }
    };
    const reply = await answered(message.deadline ?? 0);
    if (reply) return reply;
    // Whoever takes the command first decides its fate: taken here, the driver never applies it.
    if ((await store.takeCommand(messageId, 'caller')) === 'caller') {
      const over = ended as TrainRun | null;
      if (over) return decideTrain(over, message.input, this.options.ports.clock.now()).reply ?? { ok: false, message: `train ${run.train.name} has ended (${over.state})` };
      return { ok: false, delivery: 'not-applied', message: `train ${run.train.name}: the replica driving run ${run.id} did not take the command within ${seconds} s, so it was not applied; try again` };
    }
    const late = await answered(Date.now() + REPLY_GRACE_MS);
    if (late) return late;
    return {
      ok: false,
      delivery: 'pending',
      message: `train ${run.train.name}: the replica driving run ${run.id} took the command but did not answer within ${seconds} s; it may still apply — see /canary train status ${run.train.name}`,
    };
  }

  /** A command decided in this process (no store: every run is driven here). */
  private async commandHere(id: string, input: Extract<TrainInput, { type: 'command' }>): Promise<{ ok: boolean; message: string }> {
    let answer = { ok: false, message: `no train run ${id}` };
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      const run = this.runs.get(id);
      if (!run) return;
      const decision = decideTrain(run, input, this.options.ports.clock.now());
      answer = decision.reply ?? { ok: true, message: 'done' };
      if (!(await this.commit(run, decision.next, decision.effects))) answer = { ok: false, message: `train ${run.train.name}: the change could not be recorded; try again` };
    });
    this.chains.set(id, next.catch(() => undefined));
    await next;
    return answer;
  }

  /** Resolves when the run has ended. */
  whenEnded(id: string): Promise<TrainRun> {
    const run = this.runs.get(id);
    if (run && !isTrainLive(run.state)) return Promise.resolve(run);
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.recoverTimer) clearInterval(this.recoverTimer);
    if (this.inboxTimer) clearInterval(this.inboxTimer);
    await Promise.all([...this.drains.values()]);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.chains.values()]);
    // Handed back at once, so a restarted bot (or another replica) resumes without waiting out the lease.
    const store = this.options.store;
    if (store) await Promise.all([...this.owned].map((id) => store.release(id, this.owner).catch(() => undefined)));
    this.owned.clear();
  }

  private async apply(id: string, input: TrainInput): Promise<TrainRun | undefined> {
    const run = this.runs.get(id);
    if (!run || this.closed) return run;
    const decision = decideTrain(run, input, this.options.ports.clock.now());
    await this.commit(run, decision.next, decision.effects);
    return this.runs.get(id);
  }

  /**
   * Records the decision, then runs its effects; false when the record could not be written (nothing
   * ran). `recorded` is told once the decision is recorded, before its effects run.
   */
  private async commit(before: TrainRun, after: TrainRun, effects: TrainEffect[], recorded?: () => Promise<void>): Promise<boolean> {
    if (after === before && effects.length === 0) {
      await recorded?.();
      return true;
    }
    const store = this.options.store;
    if (store && after !== before) {
      try {
        await store.save(after);
      } catch (error) {
        this.options.logger?.warn({ trainRun: after.id, err: error instanceof Error ? error.message : String(error) }, 'train run not saved; asking again later');
        this.later(after.id, SAVE_RETRY_MS, { type: 'recover' });
        return false;
      }
    }
    this.runs.set(after.id, after);
    await this.options.onChange?.(after);
    await recorded?.().catch(() => undefined);
    const results: TrainInput[] = [];
    // Effects run in the order the core gave them: a rollback's entry close goes first.
    for (const effect of effects) {
      const input = await this.run(after, effect);
      if (input) results.push(input);
    }
    if (!isTrainLive(after.state)) {
      for (const resolve of this.waiters.get(after.id) ?? []) resolve(after);
      this.waiters.delete(after.id);
      if (store && this.owned.delete(after.id)) await store.release(after.id, this.owner).catch(() => undefined);
    }
    for (const input of results) void this.send(after.id, input);
    return true;
  }

  /** One timer per run: the current wait's tick (a later wait replaces it). */
  private later(id: string, delayMs: number, input: TrainInput): void {
    const previous = this.timers.get(id);
    if (previous) clearTimeout(previous);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      void this.send(id, input);
    }, Math.max(0, delayMs));
    this.timers.set(id, timer);
  }

  private async run(run: TrainRun, effect: TrainEffect): Promise<TrainInput | null> {
    const now = this.options.ports.clock.now();
    switch (effect.type) {
      case 'member': {
        const member = run.members.find((candidate) => candidate.name === effect.member);
        if (!member) return null;
        const input = await this.execute(memberRelease(run, member, now), effect.effect);
        if (!input || input.type !== 'effect-result') return null;
        return { type: 'member-result', member: member.name, result: input as MemberEffectResult };
      }
      case 'gitops':
        return runTrainGitOps(this.options.ports.gitops, run, effect, (member) => memberRelease(run, member, now));
      case 'evaluate-lane':
        return this.evaluateLane(run, effect);
      case 'schedule-tick':
        this.later(run.id, effect.at - now, { type: 'tick', key: effect.key });
        return null;
      case 'report':
        try {
          await this.options.onEvent?.(this.runs.get(run.id) ?? run, effect.event);
        } catch (error) {
          this.options.logger?.warn({ trainRun: run.id, err: error instanceof Error ? error.message : String(error) }, 'train report failed');
        }
        return null;
    }
  }

  /**
   * Every member's own analysis against its canary. Only lane requests reach a canary behind the
   * entry (the lane route is its one way in), so the canary's request count is the lane's traffic.
   */
  private async evaluateLane(run: TrainRun, effect: Extract<TrainEffect, { type: 'evaluate-lane' }>): Promise<TrainInput> {
    const now = this.options.ports.clock.now();
    const members = await Promise.all(
      effect.members.map(async (name) => {
        const member = run.members.find((candidate) => candidate.name === name);
        if (!member) throw new Error(`train ${run.train.name}: no member ${name}`);
        const analysis = { ...member.definition.analysis, minRequests: Math.max(1, member.definition.analysis.minRequests) };
        const check = await this.options.ports.gates.evaluate(memberRelease(run, member, now), analysis, analysis.metrics).catch(
          (error: unknown) => ({ verdict: 'error' as const, at: now, measurements: [{ name: 'gate', verdict: 'error' as const, value: null, threshold: '', message: String(error) }] }),
        );
        const count = check.measurements.find((measurement) => measurement.name === 'request-count');
        return { member: name, check, laneRequests: count && count.value !== null ? count.value : null };
      }),
    );
    return { type: 'lane-check', stepIndex: effect.stepIndex, check: effect.check, members };
  }
}
