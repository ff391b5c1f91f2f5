// Alert → rollback latency: time from POST /webhooks/alertmanager (a firing alert for a release at
// 20 % canary) to the Kubernetes API server storing the VirtualService with canary weight 0.
// Real engine (BullMQ on a real redis-server), real Istio router and workload controller over HTTPS
// against the Kubernetes API test server, real HTTP to the fastify app.
//
// Loaded mode (--loaded) measures the same path twice in one run, in one process with the same
// wiring: idle (the measured release alone, no webhooks) and loaded — ALERT_BENCH_LIVE live releases
// in the engine (default 1,000: the measured one and 999 others of other services, each held at 20 %
// by a one-hour pause, each with its own Alertmanager rule, on in-memory mesh ports) while a child
// process POSTs GitLab Pipeline Hooks at ALERT_BENCH_RATE a second (default 500, open loop) through
// the real /webhooks/gitlab route, intake inbox, forwarder and BullMQ intake worker (the pipelines
// concern no loaded definition, so the worker makes no GitLab call). Goal: p99 ≤ 50 ms loaded.
//
//   npx tsx bench/alert-rollback/index.ts [runs]             (default 30 runs after 3 warm-ups)
//   npx tsx bench/alert-rollback/index.ts [runs] --loaded    (idle and loaded, side by side)

import { fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Definition } from '../../src/core/definition.js';
import type { ReleaseTarget, TrafficRouter, WorkloadController } from '../../src/core/ports.js';
import { isLive } from '../../src/core/release.js';
import { createEngine, type Engine } from '../../src/engine/create-engine.js';
import type { GitLabApi } from '../../src/gitlab/gitlab-api.js';
import { createIntakeForwarder } from '../../src/gitlab/intake-forwarder.js';
import { createIntakeInbox, INBOX_REDIS_OPTIONS } from '../../src/gitlab/intake-inbox.js';
import { createIntakeQueue } from '../../src/gitlab/intake-queue.js';
import { createIntakeWorker } from '../../src/gitlab/intake-worker.js';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { redisConnectionsForUrl } from '../../src/redis/connect-redis.js';
import { buildApp } from '../../src/server/app.js';
import { alertmanagerWebhookRoutes } from '../../src/server/routes/alertmanager-webhook.js';
import { gitlabWebhookRoute } from '../../src/server/routes/gitlab-webhook.js';
import { testDefinition } from '../../test/gitlab/helpers.js';
import { canaryDefinition, triggerFor } from '../../test/support/engine-definitions.js';
import { fakePorts } from '../../test/support/fakes.js';
import { KubeApiServer } from '../../test/support/kube-api-server.js';
import { startRedisServer } from '../../test/support/redis-server.js';
import { deployment, destinationRule, namespace, NS, service, virtualService } from '../../test/mesh/fixtures.js';
import { BENCH_SECRET } from '../webhooks/bench-secret.js';

const RUNS = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 30);
const LOADED = process.argv.includes('--loaded');
const LIVE = Number(process.env.ALERT_BENCH_LIVE ?? 1000);
const RATE = Number(process.env.ALERT_BENCH_RATE ?? 500);
const GOAL_LOADED_P99_MS = 50;
const WARMUP = 3;
const SECRET = 'bench-secret';
/** Flagger's defaults: analysis.interval 60 s, threshold 1 → an alert is seen at the next check, at most one interval later. */
const FLAGGER_INTERVAL_S = 60;
const FLAGGER_THRESHOLD = 1;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000, everyMs = 1): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function canaryWeight(kube: KubeApiServer): number | null {
  const vs = kube.object('VirtualService', NS, 'reviews') as { spec?: { http?: Array<{ route?: Array<{ destination: { subset?: string }; weight?: number }> }> } } | undefined;
  const route = vs?.spec?.http?.[0]?.route;
  if (!route) return null;
  const canary = route.find((r) => r.destination.subset === 'canary');
  return canary ? (canary.weight ?? 0) : 0;
}

function quantile(sorted: number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

interface Measured {
  samples: number[];
  answers: number[];
}

/** `runs` releases of `reviews`, each at 20 % when a firing alert is POSTed; time until canary weight 0 is stored. */
async function measure(engine: Engine, kube: KubeApiServer, address: string, definition: Definition, label: string, runs: number): Promise<Measured> {
  const samples: number[] = [];
  const answers: number[] = [];
  for (let run = 0; run < WARMUP + runs; run++) {
    const tag = `${label.slice(0, 1)}${String(run).padStart(7, '0')}`;
    const result = await engine.trigger(triggerFor(definition, tag));
    if (!result.enqueued) throw new Error(`release ${tag} not enqueued: ${result.ignored}`);
    await until(() => canaryWeight(kube) === 20, `canary at 20 % (${label} run ${run})`, 60_000);
    const release = await until(async () => {
      const [live] = await engine.list({ state: 'live', service: 'reviews' });
      return live && (live.state === 'paused' || live.phase === 'pause') ? live : null;
    }, `release waiting at 20 % (${label} run ${run})`, 60_000, 5);
    await sleep(20);

    const body = JSON.stringify({
      version: '4',
      status: 'firing',
      receiver: 'canarybot',
      alerts: [{ status: 'firing', labels: { alertname: 'ReviewsHighErrorRate', service: 'reviews', severity: 'critical' }, startsAt: new Date().toISOString(), fingerprint: `bench-${tag}` }],
    });
    const t0 = performance.now();
    const response = await fetch(`${address}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` }, body });
    const answered = performance.now();
    if (response.status !== 202) throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
    await until(() => canaryWeight(kube) === 0, `canary back to 0 % (${label} run ${run})`, 30_000);
    const written = performance.now();
    if (run >= WARMUP) {
      samples.push(written - t0);
      answers.push(answered - t0);
    }
    await until(async () => {
      const ended = await engine.get(release.id);
      return ended && !isLive(ended.state) ? ended : null;
    }, `release ${release.id} to end`, 60_000, 5);
  }
  return { samples: samples.sort((a, b) => a - b), answers: answers.sort((a, b) => a - b) };
}

/** The measured `reviews` goes through the real mesh over HTTPS; every other service through in-memory ports. */
function splitPorts(real: { router: TrafficRouter; workloads: WorkloadController }, memory: { router: TrafficRouter; workloads: WorkloadController }) {
  const pick = (target: ReleaseTarget) => (target.virtualService === 'reviews' ? real : memory);
  const router: TrafficRouter = {
    preflight: (target) => pick(target).router.preflight(target),
    setTraffic: (target, traffic) => pick(target).router.setTraffic(target, traffic),
  };
  const workloads: WorkloadController = {
    ensureCanary: (target, image, replicas) => pick(target).workloads.ensureCanary(target, image, replicas),
    ensureStable: (target, image) => pick(target).workloads.ensureStable(target, image),
    scaleCanary: (target, replicas) => pick(target).workloads.scaleCanary(target, replicas),
    currentStableImage: async (target) => (await pick(target).workloads.currentStableImage?.(target)) ?? null,
  };
  return { router, workloads };
}

/** The intake worker of the loaded mode gets only pipelines no loaded definition watches: it never calls GitLab. */
const NO_GITLAB = new Proxy({}, {
  get: () => () => {
    throw new Error('the loaded bench sends only pipelines no loaded definition watches: no GitLab call expected');
  },
});

interface LoadReport {
  sent: number;
  answered: number;
  failed: number;
  seconds: number;
  p50: number;
  p99: number;
}

async function startWebhookLoad(url: string, rate: number): Promise<{ stop(): Promise<LoadReport> }> {
  const child = fork(new URL('./webhook-load.ts', import.meta.url).pathname, [url, String(rate)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('message', () => resolve());
  });
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('message', (report) => resolve(report as LoadReport));
        child.send('stop');
      }),
  };
}

async function main(): Promise<void> {
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  const redis = process.env.REDIS_URL ? null : await startRedisServer();
  const redisUrl = process.env.REDIS_URL ?? redis!.url;
  const kube = await KubeApiServer.start();
  kube.seed(virtualService());
  kube.seed(destinationRule());
  // What the mesh pre-flight reads: the Service behind the host and the namespace's sidecar injection.
  kube.seed(service());
  kube.seed(namespace());
  kube.seed(deployment('reviews-primary', 'stable', 2));
  kube.seed(deployment('reviews-canary', 'canary', 0));
  const kubeconfig = kube.writeKubeconfig([kube.cluster('default')]);
  const mesh = createMesh({ KUBECONFIG: kubeconfig });

  const definition: Definition = canaryDefinition({
    steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: 3_600_000 }, { kind: 'setWeight', weight: 100 }],
    alerts: [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'reviews' }, { name: 'severity', op: '=~', value: 'critical|page' }] }],
  });
  const others: Definition[] = LOADED
    ? Array.from({ length: LIVE - 1 }, (_, i) =>
        canaryDefinition({
          name: `svc-${i}`,
          steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: 3_600_000 }, { kind: 'setWeight', weight: 100 }],
          alerts: [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: `svc-${i}` }, { name: 'severity', op: '=~', value: 'critical|page' }] }],
        }),
      )
    : [];
  const memory = fakePorts();
  const ports = { ...memory, ...splitPorts(mesh, memory), clock: { now: () => Date.now() } };
  const prefix = `bench-${process.pid}`;
  const engine = createEngine({ redisUrl, prefix, ports, definitions: [definition, ...others] });
  await engine.start();

  // The GitLab webhook path as `serve` wires it: route → inbox → forwarder → BullMQ intake worker.
  const connections = redisConnectionsForUrl(redisUrl);
  const connection = connections.open({ maxRetriesPerRequest: null });
  const inboxRedis = connections.open(INBOX_REDIS_OPTIONS);
  const intakeQueue = createIntakeQueue({ connection, prefix });
  const inbox = createIntakeInbox({ redis: inboxRedis, prefix });
  const forwarder = createIntakeForwarder({ redis: connection, queue: intakeQueue, prefix });
  const intakeWorker = createIntakeWorker({ connection, prefix, engine, gitlab: NO_GITLAB as GitLabApi, replier: NO_GITLAB as never, definitions: () => [] });
  await forwarder.start();
  const app = await buildApp({
    logger: false,
    routes: [
      alertmanagerWebhookRoutes({ engine, secret: SECRET }),
      gitlabWebhookRoute({ secret: BENCH_SECRET, definitions: [testDefinition()], botUsername: 'canarybot', inbox, dedupePrefix: `${prefix}:d:` }),
    ],
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });

  let idle: Measured;
  let loaded: Measured | null = null;
  let webhooks: LoadReport | null = null;
  let intakeJobs = 0;
  try {
    idle = await measure(engine, kube, address, definition, 'idle', RUNS);
    if (LOADED) {
      const began = performance.now();
      for (const [i, other] of others.entries()) {
        const result = await engine.trigger(triggerFor(other, `l${String(i).padStart(7, '0')}`));
        if (!result.enqueued) throw new Error(`background release ${i} not enqueued`);
      }
      await until(async () => {
        const live = await engine.list({ state: 'live', limit: LIVE + 10 });
        return live.filter((r) => r.phase === 'pause' || r.state === 'paused').length >= others.length;
      }, `${others.length} background releases at their pause`, 600_000, 500);
      console.error(`${others.length} background releases live after ${((performance.now() - began) / 1000).toFixed(0)} s`);
      const sender = await startWebhookLoad(`${address}/webhooks/gitlab`, RATE);
      await sleep(3_000);
      const completedBefore = await intakeQueue.getCompletedCount();
      try {
        loaded = await measure(engine, kube, address, definition, 'loaded', RUNS);
      } finally {
        webhooks = await sender.stop();
        intakeJobs = (await intakeQueue.getCompletedCount()) - completedBefore;
      }
    }
  } finally {
    await app.close();
    await forwarder.close();
    await intakeWorker.close();
    await intakeQueue.close();
    inboxRedis.disconnect();
    connection.disconnect();
    await engine.close();
    await kube.close();
    await redis?.stop();
  }

  const flaggerWorstMs = FLAGGER_INTERVAL_S * FLAGGER_THRESHOLD * 1000;
  const flaggerMeanMs = flaggerWorstMs / 2;
  const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(1)} ms`);
  const row = (label: string, m: Measured): string =>
    `| canarybot ${label}: POST /webhooks/alertmanager → VS write | ${fmt(quantile(m.samples, 0.5))} | ${fmt(quantile(m.samples, 0.99))} | ${fmt(m.samples.at(-1)!)} | measured (answered 202: p50 ${fmt(quantile(m.answers, 0.5))}, p99 ${fmt(quantile(m.answers, 0.99))}) |`;

  console.log(`\nalert → VirtualService canary weight 0 (100 % stable), ${RUNS} runs each (after ${WARMUP} warm-ups), release at 20 %`);
  console.log(`machine: ${cpus().length} CPUs, load average at start ${load}\n`);
  console.log('| path | p50 | p99 | max | how |');
  console.log('|---|---|---|---|---|');
  console.log(row('idle (1 live release, no webhooks)', idle));
  if (loaded) console.log(row(`loaded (${LIVE} live releases, ${RATE} webhooks/s)`, loaded));
  console.log(`| Flagger default: interval ${FLAGGER_INTERVAL_S} s × threshold ${FLAGGER_THRESHOLD} | ~${fmt(flaggerMeanMs)} (mean) | ${fmt(flaggerWorstMs)} (worst) | ${fmt(flaggerWorstMs)} | model: next analysis tick |`);
  const idleP99 = quantile(idle.samples, 0.99);
  console.log(`\nidle p99 target ≤ 1 s: ${idleP99 <= 1000 ? 'met' : 'MISSED'}; Flagger worst case / canarybot idle p99 = ${(flaggerWorstMs / idleP99).toFixed(0)}×`);
  if (loaded && webhooks) {
    const loadedP99 = quantile(loaded.samples, 0.99);
    console.log(`loaded / idle: p50 ×${(quantile(loaded.samples, 0.5) / quantile(idle.samples, 0.5)).toFixed(2)}, p99 ×${(loadedP99 / idleP99).toFixed(2)}; loaded p99 goal ≤ ${GOAL_LOADED_P99_MS} ms: ${loadedP99 <= GOAL_LOADED_P99_MS ? 'met' : 'NOT met'}`);
    console.log(`background webhooks: ${webhooks.sent} sent in ${webhooks.seconds.toFixed(1)} s (${(webhooks.sent / webhooks.seconds).toFixed(0)}/s), ${webhooks.answered} answered, ${webhooks.failed} non-2xx or failed, answer p50 ${fmt(webhooks.p50)} p99 ${fmt(webhooks.p99)}; intake jobs completed meanwhile: ${intakeJobs}`);
  }
  console.log('');
  if (idleP99 > 1000) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
