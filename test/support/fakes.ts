// In-memory fakes of every port, recording what the engine asked of them. Failures are scripted per
// call so tests can say "the second traffic write hits a 409 storm".

import type { AnalysisSpec, MetricCheck, Step } from '../../src/core/definition.js';
import type { ReleaseEventKind } from '../../src/core/effect.js';
import type { CanarybotError } from '../../src/core/errors.js';
import type { CheckResult, Verdict } from '../../src/core/gate.js';
import type {
  Clock,
  CommandOutcome,
  CommandReplier,
  GateEvaluator,
  Notifier,
  Ports,
  ReleaseTarget,
  ReplyTarget,
  Reporter,
  RolloutStatus,
  TrafficRouter,
  WorkloadController,
} from '../../src/core/ports.js';
import type { Release } from '../../src/core/release.js';
import type { TrafficState } from '../../src/core/traffic.js';

export interface TrafficWrite {
  seq: number;
  service: string;
  cluster: string;
  namespace: string;
  traffic: TrafficState;
}

/** Throws the next scripted error for a call, if any. */
class Script {
  private readonly errors: Array<CanarybotError | null> = [];
  /** Calls checked so far. */
  calls = 0;

  failNext(...errors: Array<CanarybotError | null>): void {
    this.errors.push(...errors);
  }

  check(): void {
    this.calls += 1;
    const error = this.errors.shift();
    if (error) throw error;
  }
}

export class FakeRouter implements TrafficRouter {
  readonly writes: TrafficWrite[] = [];
  readonly preflights: ReleaseTarget[] = [];
  /** Every call in order, preflights and writes alike. */
  readonly calls: Array<{ op: 'preflight' | 'set-traffic'; service: string }> = [];
  readonly preflightScript = new Script();
  readonly writeScript = new Script();
  private seq = 0;
  /** Called after each recorded write (the chaos test persists the log to Redis here). */
  onWrite?: (write: TrafficWrite) => Promise<void>;

  async preflight(target: ReleaseTarget): Promise<void> {
    this.preflights.push(target);
    this.calls.push({ op: 'preflight', service: target.service });
    this.preflightScript.check();
  }

  async setTraffic(target: ReleaseTarget, traffic: TrafficState): Promise<void> {
    this.writeScript.check();
    const write = { seq: ++this.seq, service: target.service, cluster: target.cluster, namespace: target.namespace, traffic };
    this.writes.push(write);
    this.calls.push({ op: 'set-traffic', service: target.service });
    await this.onWrite?.(write);
  }

  weightsOf(service: string): number[] {
    return this.writes.filter((w) => w.service === service).map((w) => w.traffic.weights.canary);
  }
}

export interface WorkloadCall {
  op: 'ensure-canary' | 'ensure-stable' | 'scale-canary';
  service: string;
  image?: string;
  replicas?: number;
}

/** Deployments become ready `readyAfterMs` after their image was first set (by the injected clock). */
export class FakeWorkloads implements WorkloadController {
  readonly calls: WorkloadCall[] = [];
  readonly script = new Script();
  readyAfterMs = 0;
  /** Images whose rollout fails. */
  readonly failingImages = new Set<string>();
  /** Images whose rollout fails on the stable Deployment only (a promotion that breaks). */
  readonly failingStableImages = new Set<string>();
  readonly canaryImage = new Map<string, string>();
  readonly stableImage = new Map<string, string>();
  readonly canaryReplicas = new Map<string, number>();
  private readonly firstSeen = new Map<string, number>();
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  async ensureCanary(target: ReleaseTarget, image: string, replicas?: number): Promise<RolloutStatus> {
    this.script.check();
    this.calls.push({ op: 'ensure-canary', service: target.service, image, replicas });
    this.canaryImage.set(target.service, image);
    this.canaryReplicas.set(target.service, replicas ?? 1);
    return this.status(`canary/${target.service}/${image}`, image);
  }

  async ensureStable(target: ReleaseTarget, image: string): Promise<RolloutStatus> {
    this.script.check();
    this.calls.push({ op: 'ensure-stable', service: target.service, image });
    this.stableImage.set(target.service, image);
    if (this.failingStableImages.has(image)) return { state: 'failed', message: `${image}: ProgressDeadlineExceeded` };
    return this.status(`stable/${target.service}/${image}`, image);
  }

  /** What `stableImage` holds for the service (seed it to play a cluster with a running stable), else unknown. */
  async currentStableImage(target: ReleaseTarget): Promise<string | null> {
    return this.stableImage.get(target.service) ?? null;
  }

  async scaleCanary(target: ReleaseTarget, replicas: number): Promise<void> {
    this.script.check();
    this.calls.push({ op: 'scale-canary', service: target.service, replicas });
    this.canaryReplicas.set(target.service, replicas);
  }

  private status(key: string, image: string): RolloutStatus {
    if (this.failingImages.has(image)) return { state: 'failed', message: `${image}: ImagePullBackOff` };
    const now = this.clock.now();
    const since = this.firstSeen.get(key) ?? now;
    this.firstSeen.set(key, since);
    if (now - since >= this.readyAfterMs) return { state: 'ready' };
    return { state: 'progressing', message: `waiting for ${key}` };
  }
}

/** Gate checks answer the scripted verdicts in order, then `fallback`. */
export class FakeGates implements GateEvaluator {
  readonly verdicts: Verdict[] = [];
  fallback: Verdict = 'pass';
  readonly checks: Array<{ releaseId: string; analysis: AnalysisSpec; metrics: MetricCheck[] }> = [];
  readonly webhooks: Array<{ releaseId: string; step: string }> = [];
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  async evaluate(release: Release, analysis: AnalysisSpec, metrics: MetricCheck[]): Promise<CheckResult> {
    this.checks.push({ releaseId: release.id, analysis, metrics });
    return this.result(this.verdicts.shift() ?? this.fallback, 'request-success-rate');
  }

  async callWebhook(release: Release, step: Extract<Step, { kind: 'webhook' }>): Promise<CheckResult> {
    this.webhooks.push({ releaseId: release.id, step: step.name });
    return this.result(this.verdicts.shift() ?? this.fallback, `webhook:${step.name}`);
  }

  private result(verdict: Verdict, name: string): CheckResult {
    const value = verdict === 'pass' ? 99.9 : verdict === 'fail' ? 91.2 : null;
    return { verdict, at: this.clock.now(), measurements: [{ name, verdict, value, threshold: '>= 99' }] };
  }
}

export class RecordingReporter implements Reporter {
  readonly events: Array<{ releaseId: string; event: ReleaseEventKind; state: string }> = [];
  readonly script = new Script();

  async report(release: Release, event: ReleaseEventKind): Promise<void> {
    this.script.check();
    this.events.push({ releaseId: release.id, event, state: release.state });
  }
}

export class RecordingNotifier implements Notifier {
  readonly events: Array<{ releaseId: string; event: ReleaseEventKind }> = [];
  readonly script = new Script();

  async notify(release: Release, event: ReleaseEventKind): Promise<void> {
    this.script.check();
    this.events.push({ releaseId: release.id, event });
  }
}

export class RecordingReplier implements CommandReplier {
  readonly replies: Array<{ target: ReplyTarget; outcome: CommandOutcome }> = [];

  async reply(target: ReplyTarget, outcome: CommandOutcome): Promise<void> {
    this.replies.push({ target, outcome });
  }
}

/** A clock that follows real time shifted by `offset`, or stands still when frozen. */
export class FakeClock implements Clock {
  private frozenAt: number | null;
  offset = 0;

  constructor(frozenAt: number | null = null) {
    this.frozenAt = frozenAt;
  }

  now(): number {
    return (this.frozenAt ?? Date.now()) + this.offset;
  }

  advance(ms: number): void {
    if (this.frozenAt !== null) this.frozenAt += ms;
    else this.offset += ms;
  }
}

export interface FakePorts extends Ports {
  router: FakeRouter;
  workloads: FakeWorkloads;
  gates: FakeGates;
  reporter: RecordingReporter;
  notifier: RecordingNotifier;
  replier: RecordingReplier;
  clock: FakeClock;
}

export function fakePorts(clock: FakeClock = new FakeClock()): FakePorts {
  return {
    router: new FakeRouter(),
    workloads: new FakeWorkloads(clock),
    gates: new FakeGates(clock),
    reporter: new RecordingReporter(),
    notifier: new RecordingNotifier(),
    replier: new RecordingReplier(),
    clock,
  };
}

/**
 * A gate for engine child processes: services whose name ends in `-bad` fail their analysis (80 %
 * success rate), every other passes (99.9 %), so a run ends with both promoted and rolled-back releases.
 */
export async function failBadServicesGate(release: Release): Promise<CheckResult> {
  const verdict = release.service.endsWith('-bad') ? 'fail' : 'pass';
  return { verdict, at: Date.now(), measurements: [{ name: 'request-success-rate', verdict, value: verdict === 'pass' ? 99.9 : 80, threshold: '>= 99' }] };
}
