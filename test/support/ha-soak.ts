// The HA soak (issue 16): several `canarybot serve` processes (test/support/serve-harness.ts) share
// one real redis-server, many releases run at once, and random processes are SIGKILLed and started
// again throughout (never the last one ready: the others carry on). Each release has its own namespace, branch, MR and webhook gate; every
// `failEvery`-th gate answers 400, so that release must be rolled back, the others promoted.
// Pipeline webhooks go to a random running process; a refused connection or a 5xx is sent again to
// another one, as a load balancer and GitLab's retries would. What is measured (`HaSoakResult`):
// outcomes against expectations, repeated traffic writes, VirtualService writes not summing to 100,
// repeated progress notes, commit statuses and gate calls, the longest stall of a release, webhooks
// acknowledged 2xx whose release never ended (lost) and the delivery latency while processes die.
// Used by test/e2e/ha-soak.e2e.test.ts (CI size) and bench/soak (the size).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { deployment, destinationRule, namespace, service, virtualService } from '../mesh/fixtures.js';
import { pipelineHook, PROJECT, startWorld, webhookHeaders, type World, reviewsDefinition } from '../e2e/world.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { startServeHarness, type ServeHarness } from './serve-harness.js';

export interface HaSoakOptions {
  processes: number;
  releases: number;
  kills: number;
  /** Every n-th release's webhook gate answers 400: it must end rolled back. Default 4. */
  failEvery?: number;
  /** The pipeline webhooks are spread over this long (ms); default 10 s. */
  deliverSpanMs?: number;
  /** The kills are spread over this long (ms), starting with the first delivery; default 60 s. */
  killSpanMs?: number;
  /** Give up waiting for the releases to end after this long past the last kill (ms); default 10 min. */
  endTimeoutMs?: number;
  /** The definitions' two pauses (ms); default 4 s. */
  pauseMs?: number;
  progress?: (line: string) => void;
}

export interface HaSoakResult {
  processes: number;
  releases: number;
  kills: number;
  starts: number;
  expected: { promoted: number; rolledBack: number };
  promoted: number;
  rolledBack: number;
  /** `service: state (expected …)` for every release that did not end as expected (or did not end). */
  unexpected: string[];
  trafficWrites: number;
  /** VirtualService writes whose weights equal the previous write of that VirtualService. */
  repeatedTrafficWrites: number;
  /** Releases whose traffic steps, repeats collapsed, are not the planned sequence. */
  wrongTrafficSequences: string[];
  /** VirtualService writes whose route weights do not sum to 100. */
  writesNotSummingTo100: number;
  /** Progress notes beyond one per release. */
  repeatedNotes: number;
  /** Commit statuses equal to the previous status of the same commit. */
  repeatedStatuses: number;
  /** Webhook gate calls beyond one per release. */
  repeatedGateCalls: number;
  /** Longest gap between two consecutive Kubernetes writes of one release, and that gap less the planned pause. */
  maxGapMs: number;
  /** The longest gap not counting time when no process was ready (what the bot itself took to recover a release). */
  maxGapWhileServingMs: number;
  /** Where the longest gap was: the release, its bounds (s from the start) and the fewest processes ready during it. */
  maxGapAt: { ns: string; fromS: number; toS: number; fewestReady: number } | null;
  /** Each kill: when (s from the start), and when that process answered /readyz again. */
  killTimes: { atS: number; readyS: number }[];
  maxStallMs: number;
  pauseMs: number;
  webhooks: { releases: number; attempts: number; acknowledged: number; refused: number; unreachable: number; lost: number; p50Ms: number; p99Ms: number; maxMs: number };
  durationMs: number;
}

const SECRET = 'ha-soak-webhook-secret';
const ENDED = ['succeeded', 'rolled-back', 'failed', 'aborted', 'superseded'];
const nsOf = (i: number): string => `soak-${String(i).padStart(3, '0')}`;
/** Unique in its first 7 characters (the pipeline id) and 8 (the image tag). */
const shaOf = (i: number): string => `1${String(i).padStart(6, '0')}${'0123456789abcdef'.repeat(3).slice(0, 33)}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function definitionYaml(ns: string, gateUrl: string, pauseMs: number): string {
  return reviewsDefinition({
    name: ns,
    namespace: ns,
    branch: ns,
    steps: ['setWeight: 20', `pause: { duration: ${pauseMs}ms }`, `webhook: { name: smoke, url: ${gateUrl}/${ns}, timeout: 5s }`, 'setWeight: 60', `pause: { duration: ${pauseMs}ms }`, 'setWeight: 100'],
  });
}

function seedNamespace(world: World, ns: string): void {
  const inNs = <T extends { metadata: { name: string; namespace?: string } }>(object: T): T => ({ ...object, metadata: { ...object.metadata, namespace: ns } });
  world.kube.seed({ ...namespace(), metadata: { name: ns, labels: { 'istio-injection': 'enabled' } } } as never);
  world.kube.seed(inNs(virtualService()));
  world.kube.seed(inNs(destinationRule()));
  world.kube.seed(inNs(service()));
  world.kube.seed(inNs(deployment('reviews-primary', 'stable', 2)));
  world.kube.seed(inNs(deployment('reviews-canary', 'canary', 0)));
}

/** The primary route's weights as stored: canary weight and the sum of all weights. */
function routeOf(world: World, ns: string): { canary: number; sum: number } {
  const vs = world.kube.object('VirtualService', ns, 'reviews') as { spec: { http: { name?: string; route: { destination: { subset?: string }; weight?: number }[] }[] } } | undefined;
  const route = vs?.spec.http.find((r) => r.name === 'primary')?.route ?? [];
  const weight = (d: { weight?: number }): number => d.weight ?? (route.length === 1 ? 100 : 0);
  const canary = route.find((d) => d.destination.subset === 'canary');
  return { canary: canary ? weight(canary) : 0, sum: route.reduce((total, d) => total + weight(d), 0) };
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function collapse<T>(values: T[]): T[] {
  return values.filter((value, i) => i === 0 || values[i - 1] !== value);
}

export async function runHaSoak(options: HaSoakOptions): Promise<HaSoakResult> {
  const failEvery = options.failEvery ?? 4;
  const pauseMs = options.pauseMs ?? 4_000;
  const deliverSpanMs = options.deliverSpanMs ?? 10_000;
  const killSpanMs = options.killSpanMs ?? 60_000;
  const say = options.progress ?? (() => undefined);
  const failing = (i: number): boolean => i % failEvery === failEvery - 1;
  const began = performance.now();

  let redis: RedisServer | undefined;
  let world: World | undefined;
  let gate: Server | undefined;
  const serves: ServeHarness[] = [];
  const running = new Set<ServeHarness>();
  try {
    [redis, world] = await Promise.all([startRedisServer(), startWorld()]);
    const w = world;
    const gateCalls = new Map<string, number>();
    gate = createServer((request, response) => {
      const ns = (request.url ?? '').split('/').at(-1) ?? '';
      gateCalls.set(ns, (gateCalls.get(ns) ?? 0) + 1);
      request.resume();
      const index = Number(ns.slice('soak-'.length));
      request.on('end', () => response.writeHead(failing(index) ? 400 : 200, { 'content-type': 'application/json' }).end(failing(index) ? '{"smoke":"failed"}' : '{}'));
    });
    await new Promise<void>((resolve) => gate!.listen(0, '127.0.0.1', resolve));
    const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/gate`;

    const namespaces = Array.from({ length: options.releases }, (_, i) => nsOf(i));
    w.gitlab.seed({ mergeRequests: namespaces.map((ns, i) => ({ projectId: PROJECT, iid: 100 + i, authorId: 8, title: `Soak ${ns}`, targetBranch: ns })) });
    namespaces.forEach((ns) => seedNamespace(w, ns));
    rmSync(join(w.pipelinesDir, 'reviews.yaml'));
    namespaces.forEach((ns) => writeFileSync(join(w.pipelinesDir, `${ns}.yaml`), definitionYaml(ns, gateUrl, pauseMs)));

    // Every Kubernetes write of a release's namespace, with its time; the VirtualService's weights as stored.
    const writesAt = new Map<string, number[]>();
    const traffic = new Map<string, number[]>();
    let writesNotSummingTo100 = 0;
    w.kube.clearRecord();
    w.kube.afterWrite = ({ kind, namespace: ns }) => {
      if (!ns.startsWith('soak-') || (kind !== 'VirtualService' && kind !== 'Deployment')) return;
      writesAt.set(ns, [...(writesAt.get(ns) ?? []), performance.now()]);
      if (kind !== 'VirtualService') return;
      const route = routeOf(w, ns);
      if (route.sum !== 100) writesNotSummingTo100 += 1;
      traffic.set(ns, [...(traffic.get(ns) ?? []), route.canary]);
    };

    const env = {
      REDIS_URL: redis.url,
      GITLAB_URL: w.gitlab.url,
      GITLAB_TOKEN: w.gitlab.token,
      GITLAB_WEBHOOK_SECRET: SECRET,
      // The soak is about the bot's state under kills, not GitLab's write budget (default 60 a minute).
      GITLAB_WRITES_PER_MINUTE: '100000',
      KUBECONFIG: w.kubeconfig,
      PIPELINES_DIR: w.pipelinesDir,
      PUBLIC_URL: 'https://canarybot.example.com',
      LOG_LEVEL: 'warn',
    };
    for (let p = 0; p < options.processes; p++) serves.push(await startServeHarness({ env, readyTimeoutMs: 180_000 }));
    await Promise.all(serves.map(async (serve) => {
      await serve.start();
      running.add(serve);
    }));
    say(`${options.processes} serve processes ready after ${((performance.now() - began) / 1000).toFixed(1)} s`);

    // Deliveries: each pipeline webhook until some process answers 2xx.
    const ackAt = new Map<string, number>();
    const latencies: number[] = [];
    let attempts = 0;
    let refused = 0;
    let unreachable = 0;
    const pick = (): ServeHarness | undefined => [...running][Math.floor(Math.random() * running.size)];
    const deliver = async (i: number): Promise<void> => {
      const hook = pipelineHook(shaOf(i), 100 + i) as { object_attributes: { ref: string } };
      hook.object_attributes.ref = nsOf(i);
      const body = JSON.stringify(hook);
      for (;;) {
        const serve = pick();
        if (!serve) {
          await sleep(100);
          continue;
        }
        attempts += 1;
        const t0 = performance.now();
        const status = await fetch(`${serve.url}/webhooks/gitlab`, { method: 'POST', headers: webhookHeaders(SECRET, 'Pipeline Hook'), body, signal: AbortSignal.timeout(30_000) }).then((r) => r.status, () => 0);
        if (status >= 200 && status < 300) {
          latencies.push(performance.now() - t0);
          ackAt.set(nsOf(i), performance.now());
          return;
        }
        if (status === 0) unreachable += 1;
        else refused += 1;
        await sleep(100);
      }
    };
    const deliveries = Promise.all(namespaces.map(async (_, i) => {
      await sleep((deliverSpanMs * i) / Math.max(1, options.releases));
      await deliver(i);
    }));

    // Kills: spread over killSpanMs, each of a random running process, started again at once.
    const restarts: Promise<void>[] = [];
    const readyCount: { at: number; ready: number }[] = [{ at: performance.now(), ready: running.size }];
    const killTimes: { atS: number; readyS: number }[] = [];
    const sinceStart = (): number => (performance.now() - began) / 1000;
    let kills = 0;
    for (let k = 0; k < options.kills; k++) {
      await sleep((killSpanMs / options.kills) * (0.5 + Math.random()));
      // Never the last process ready: HA means the others carry on (killing every replica at once is an outage, not a failover).
      while (running.size < 2) await sleep(200);
      const victim = pick()!;
      running.delete(victim);
      readyCount.push({ at: performance.now(), ready: running.size });
      await victim.kill();
      kills += 1;
      const killed = { atS: sinceStart(), readyS: NaN };
      killTimes.push(killed);
      const restarted = victim;
      restarts.push(restarted.start().then(() => {
        running.add(restarted);
        readyCount.push({ at: performance.now(), ready: running.size });
        killed.readyS = sinceStart();
      }));
      say(`kill ${kills}/${options.kills} at ${killed.atS.toFixed(1)} s (${running.size} ready)`);
    }
    await deliveries;
    await Promise.all(restarts);
    say(`every webhook acknowledged; ${kills} kills done at ${((performance.now() - began) / 1000).toFixed(1)} s`);

    // Wait until every release has ended (read through any process's API).
    const deadline = Date.now() + (options.endTimeoutMs ?? 600_000);
    let states = new Map<string, string>();
    for (;;) {
      const serve = pick();
      const answer = serve
        ? await fetch(`${serve.url}/api/releases?limit=500`, { headers: { authorization: `Bearer ${w.gitlab.token}` } }).then((r) => (r.ok ? (r.json() as Promise<{ releases: { service: string; state: string }[] }>) : null), () => null)
        : null;
      if (answer) states = new Map(answer.releases.filter((r) => r.service.startsWith('soak-')).map((r) => [r.service, r.state]));
      const ended = namespaces.filter((ns) => ENDED.includes(states.get(ns) ?? '')).length;
      if (ended === namespaces.length || Date.now() > deadline) break;
      say(`${ended}/${namespaces.length} releases ended`);
      await sleep(2_000);
    }
    // Let the write-back catch up with the last ends before the notes and statuses are counted.
    await sleep(3_000);

    const unexpected: string[] = [];
    const wrongTrafficSequences: string[] = [];
    let promoted = 0;
    let rolledBack = 0;
    let repeatedTrafficWrites = 0;
    let repeatedNotes = 0;
    let repeatedStatuses = 0;
    let repeatedGateCalls = 0;
    let maxGapMs = 0;
    let maxGapAt: HaSoakResult['maxGapAt'] = null;
    let maxGapWhileServingMs = 0;
    // Spans with no process ready: a release cannot move then, whatever the bot does.
    const dark: [number, number][] = [];
    readyCount.forEach((c, i) => {
      if (c.ready === 0) dark.push([c.at, readyCount[i + 1]?.at ?? performance.now()]);
    });
    const darkWithin = (from: number, to: number): number => dark.reduce((total, [a, b]) => total + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
    let lost = 0;
    namespaces.forEach((ns, i) => {
      const expected = failing(i) ? 'rolled-back' : 'succeeded';
      const state = states.get(ns) ?? 'never seen';
      if (state === 'succeeded') promoted += 1;
      if (state === 'rolled-back') rolledBack += 1;
      if (state !== expected) unexpected.push(`${ns}: ${state} (expected ${expected})`);
      if (ackAt.has(ns) && !ENDED.includes(state)) lost += 1;
      const weights = traffic.get(ns) ?? [];
      repeatedTrafficWrites += weights.length - collapse(weights).length;
      const planned = failing(i) ? [20, 0] : [20, 60, 100, 0];
      if (JSON.stringify(collapse(weights)) !== JSON.stringify(planned)) wrongTrafficSequences.push(`${ns}: ${JSON.stringify(weights)}`);
      const notes = w.gitlab.notes(PROJECT, 100 + i).filter((note) => note.body.startsWith('<!-- canarybot:release:'));
      repeatedNotes += Math.max(0, notes.length - 1);
      const statuses = w.gitlab.statuses(PROJECT, shaOf(i)).map((s) => `${s.name}:${s.status}:${s.description ?? ''}`);
      repeatedStatuses += statuses.length - collapse(statuses).length;
      repeatedGateCalls += Math.max(0, (gateCalls.get(ns) ?? 0) - 1);
      const times = [ackAt.get(ns) ?? Infinity, ...(writesAt.get(ns) ?? [])].filter(Number.isFinite);
      for (let t = 1; t < times.length; t++) {
        maxGapWhileServingMs = Math.max(maxGapWhileServingMs, times[t]! - times[t - 1]! - darkWithin(times[t - 1]!, times[t]!));
        if (times[t]! - times[t - 1]! <= maxGapMs) continue;
        maxGapMs = times[t]! - times[t - 1]!;
        const during = readyCount.filter((c) => c.at <= times[t]!);
        const before = during.filter((c) => c.at <= times[t - 1]!).at(-1);
        const fewestReady = Math.min(before?.ready ?? options.processes, ...during.filter((c) => c.at > times[t - 1]!).map((c) => c.ready));
        maxGapAt = { ns, fromS: (times[t - 1]! - began) / 1000, toS: (times[t]! - began) / 1000, fewestReady };
      }
    });
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      processes: options.processes,
      releases: options.releases,
      kills,
      starts: serves.reduce((total, serve) => total + serve.starts, 0),
      expected: { promoted: namespaces.filter((_, i) => !failing(i)).length, rolledBack: namespaces.filter((_, i) => failing(i)).length },
      promoted,
      rolledBack,
      unexpected,
      trafficWrites: [...traffic.values()].reduce((total, list) => total + list.length, 0),
      repeatedTrafficWrites,
      wrongTrafficSequences,
      writesNotSummingTo100,
      repeatedNotes,
      repeatedStatuses,
      repeatedGateCalls,
      maxGapMs,
      maxGapWhileServingMs,
      maxGapAt,
      killTimes,
      maxStallMs: Math.max(0, maxGapWhileServingMs - pauseMs),
      pauseMs,
      webhooks: { releases: options.releases, attempts, acknowledged: latencies.length, refused, unreachable, lost, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted.at(-1) ?? 0 },
      durationMs: performance.now() - began,
    };
  } finally {
    await Promise.all(serves.map((serve) => serve.stop()));
    if (gate) await new Promise((resolve) => gate!.close(resolve));
    await world?.close();
    await redis?.stop();
  }
}

/** The figures as a Markdown table. */
export function soakTable(r: HaSoakResult): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const rows: [string, string, string][] = [
    ['serve processes / releases / SIGKILLs (starts)', `${r.processes} / ${r.releases} / ${r.kills} (${r.starts})`, ''],
    ['promoted (expected)', `${r.promoted} (${r.expected.promoted})`, 'equal'],
    ['rolled back (expected)', `${r.rolledBack} (${r.expected.rolledBack})`, 'equal'],
    ['releases not ended as expected', String(r.unexpected.length), '0'],
    ['traffic writes / repeated / not the planned steps', `${r.trafficWrites} / ${r.repeatedTrafficWrites} / ${r.wrongTrafficSequences.length}`, 'repeats only after a kill; planned steps 0'],
    ['VirtualService writes not summing to 100', String(r.writesNotSummingTo100), '0'],
    ['repeated progress notes / commit statuses / gate calls', `${r.repeatedNotes} / ${r.repeatedStatuses} / ${r.repeatedGateCalls}`, 'notes 0, statuses 0'],
    ['longest gap between a release\'s writes (planned pause)', `${s(r.maxGapMs)} (${s(r.pauseMs)})`, ''],
    ['… where', r.maxGapAt ? `${r.maxGapAt.ns}, ${r.maxGapAt.fromS.toFixed(1)}–${r.maxGapAt.toS.toFixed(1)} s, fewest processes ready ${r.maxGapAt.fewestReady}` : '-', ''],
    ['kills at (ready again) s', r.killTimes.map((k) => `${k.atS.toFixed(0)} (${k.readyS.toFixed(0)})`).join(', '), ''],
    ['max time a release stalled while a process was ready (gap − pause)', s(r.maxStallMs), ''],
    ['pipeline webhooks: sent / acknowledged 2xx / lost', `${r.webhooks.releases} / ${r.webhooks.acknowledged} / ${r.webhooks.lost}`, 'lost 0'],
    ['delivery attempts / 5xx answers / unreachable (sent again)', `${r.webhooks.attempts} / ${r.webhooks.refused} / ${r.webhooks.unreachable}`, ''],
    ['webhook latency while processes die p50 / p99 / max', `${r.webhooks.p50Ms.toFixed(0)} / ${r.webhooks.p99Ms.toFixed(0)} / ${r.webhooks.maxMs.toFixed(0)} ms`, ''],
    ['duration', s(r.durationMs), ''],
  ];
  return ['| figure | value | must be |', '|---|---|---|', ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`)].join('\n');
}
