// Runs release trains: feeds a run's inputs to the pure train core one at a time, executes the
// member effects through the same executor (and so the same ports and adapters) as a single
// release, evaluates each member's analysis on lane traffic, and keeps the timers of the waits.
// Runs live in this process (see src/core/train/README.md for what is not durable yet).

import type { Logger } from 'pino';
import { createRelease } from '../core/create-release.js';
import type { Definition } from '../core/definition.js';
import { matchesAll } from '../core/label-matchers.js';
import type { Ports } from '../core/ports.js';
import type { Actor, Release } from '../core/release.js';
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
}

export type TrainStartResult = { ok: true; run: TrainRun } | { ok: false; message: string };

/** The member as a release record, so the executor and the gate evaluator act on its target. */
export function memberRelease(run: TrainRun, member: TrainMember, now: number): Release {
  const release = createRelease(
    { definition: member.definition, image: member.image ?? '', sha: member.sha ?? '', ref: '', pipeline: null, mr: member.mr, actor: run.triggeredBy },
    `${run.id}-${member.name}`,
    now,
  );
  return { ...release, stableImageBefore: member.stableImageBefore };
}

export class TrainRunner {
  private readonly runs = new Map<string, TrainRun>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiters = new Map<string, Array<(run: TrainRun) => void>>();
  private readonly execute;
  private closed = false;
  private sequence = 0;

  constructor(private readonly options: TrainRunnerOptions) {
    this.execute = createExecutor({ ports: options.ports, metrics: options.metrics, logger: options.logger });
  }

  get trains(): readonly TrainDefinition[] {
    return this.options.trains;
  }

  get definitions(): readonly Definition[] {
    return this.options.definitions;
  }

  /**
   * Firing alerts from the webhooks: an alert matching any member's `alerts` sources rolls that
   * member's live train back as a whole (the core ignores an alert once the run is rolling back).
   */
  async alerts(alerts: ReadonlyArray<{ name: string; labels: Readonly<Record<string, string>> }>): Promise<string[]> {
    const hit: string[] = [];
    for (const run of this.list().filter((candidate) => isTrainLive(candidate.state))) {
      for (const member of run.members) {
        const alert = alerts.find((candidate) => member.definition.alerts.some((source) => matchesAll(source.matchers, candidate.labels)));
        if (!alert) continue;
        await this.send(run.id, { type: 'alert', member: member.name, name: alert.name });
        hit.push(run.id);
        break;
      }
    }
    return hit;
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
    const running = this.liveFor(train.name);
    if (running) return { ok: false, message: `train ${train.name} is already running (${running.id}, ${running.state})` };
    for (const member of train.members) {
      const solo = (await this.options.soloReleaseOf?.(member)) ?? null;
      if (solo) return { ok: false, message: `${member} is being released on its own (${solo}); a train member is not released alone at the same time` };
    }
    const now = this.options.ports.clock.now();
    this.sequence += 1;
    const id = `${train.name}-${now.toString(36)}-${this.sequence}`;
    const run = createTrainRun(train, this.options.definitions, starts, id, now, actor);
    this.runs.set(id, run);
    this.send(id, { type: 'start' });
    return { ok: true, run };
  }

  /** Queue an input for a run; inputs of one run are decided one at a time, in order. */
  send(id: string, input: TrainInput): Promise<TrainRun | undefined> {
    let reply: TrainRun | undefined;
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      reply = await this.apply(id, input);
    });
    this.chains.set(id, next.catch(() => undefined));
    return next.then(() => reply);
  }

  /** A command with its answer for the human. */
  async command(id: string, input: Extract<TrainInput, { type: 'command' }>): Promise<{ ok: boolean; message: string }> {
    let answer = { ok: false, message: `no train run ${id}` };
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      const run = this.runs.get(id);
      if (!run) return;
      const decision = decideTrain(run, input, this.options.ports.clock.now());
      answer = decision.reply ?? { ok: true, message: 'done' };
      await this.commit(run, decision.next, decision.effects);
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
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.chains.values()]);
  }

  private async apply(id: string, input: TrainInput): Promise<TrainRun | undefined> {
    const run = this.runs.get(id);
    if (!run || this.closed) return run;
    const decision = decideTrain(run, input, this.options.ports.clock.now());
    await this.commit(run, decision.next, decision.effects);
    return this.runs.get(id);
  }

  private async commit(before: TrainRun, after: TrainRun, effects: TrainEffect[]): Promise<void> {
    if (after === before && effects.length === 0) return;
    this.runs.set(after.id, after);
    await this.options.onChange?.(after);
    const results: TrainInput[] = [];
    // Effects run in the order the core gave them: a rollback's entry close goes first.
    for (const effect of effects) {
      const input = await this.run(after, effect);
      if (input) results.push(input);
    }
    if (!isTrainLive(after.state)) {
      for (const resolve of this.waiters.get(after.id) ?? []) resolve(after);
      this.waiters.delete(after.id);
    }
    for (const input of results) void this.send(after.id, input);
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
      case 'evaluate-lane':
        return this.evaluateLane(run, effect);
      case 'schedule-tick': {
        const previous = this.timers.get(run.id);
        if (previous) clearTimeout(previous);
        const timer = setTimeout(() => {
          this.timers.delete(run.id);
          void this.send(run.id, { type: 'tick', key: effect.key });
        }, Math.max(0, effect.at - now));
        this.timers.set(run.id, timer);
        return null;
      }
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
