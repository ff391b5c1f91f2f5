// Alert → rollback latency: time from POST /webhooks/alertmanager (a firing alert for a release at
// 20 % canary) to the Kubernetes API server storing the VirtualService with canary weight 0.
// Real engine (BullMQ on a real redis-server), real Istio router and workload controller over HTTPS
// against the Kubernetes API test server, real HTTP to the fastify app.
//
//   npx tsx bench/alert-rollback/index.ts [runs]       (default 30 runs after 3 warm-ups)

import { performance } from 'node:perf_hooks';
import type { Definition } from '../../src/core/definition.js';
import { isLive } from '../../src/core/release.js';
import { createEngine } from '../../src/engine/create-engine.js';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { buildApp } from '../../src/server/app.js';
import { alertmanagerWebhookRoutes } from '../../src/server/routes/alertmanager-webhook.js';
import { canaryDefinition, triggerFor } from '../../test/support/engine-definitions.js';
import { fakePorts } from '../../test/support/fakes.js';
import { KubeApiServer } from '../../test/support/kube-api-server.js';
import { startRedisServer } from '../../test/support/redis-server.js';
import { deployment, destinationRule, NS, virtualService } from '../../test/mesh/fixtures.js';

const RUNS = Number(process.argv[2] ?? 30);
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

async function main(): Promise<void> {
  const redis = process.env.REDIS_URL ? null : await startRedisServer();
  const redisUrl = process.env.REDIS_URL ?? redis!.url;
  const kube = await KubeApiServer.start();
  kube.seed(virtualService());
  kube.seed(destinationRule());
  kube.seed(deployment('reviews-primary', 'stable', 2));
  kube.seed(deployment('reviews-canary', 'canary', 0));
  const kubeconfig = kube.writeKubeconfig([kube.cluster('default')]);
  const mesh = createMesh({ KUBECONFIG: kubeconfig });

  const definition: Definition = canaryDefinition({
    steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: 3_600_000 }, { kind: 'setWeight', weight: 100 }],
    alerts: [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'reviews' }, { name: 'severity', op: '=~', value: 'critical|page' }] }],
  });
  const ports = { ...fakePorts(), router: mesh.router, workloads: mesh.workloads, clock: { now: () => Date.now() } };
  const engine = createEngine({ redisUrl, prefix: `bench-${process.pid}`, ports, definitions: [definition] });
  await engine.start();
  const app = await buildApp({ logger: false, routes: [alertmanagerWebhookRoutes({ engine, secret: SECRET })] });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });

  const samples: number[] = [];
  const answers: number[] = [];
  try {
    for (let run = 0; run < WARMUP + RUNS; run++) {
      const tag = `b${String(run).padStart(7, '0')}`;
      const result = await engine.trigger(triggerFor(definition, tag));
      if (!result.enqueued) throw new Error(`release ${tag} not enqueued: ${result.ignored}`);
      await until(() => canaryWeight(kube) === 20, `canary at 20 % (run ${run})`);
      const release = await until(async () => {
        const [live] = await engine.list({ state: 'live', service: 'reviews' });
        return live && (live.state === 'paused' || live.phase === 'pause') ? live : null;
      }, `release waiting at 20 % (run ${run})`, 20_000, 5);
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
      await until(() => canaryWeight(kube) === 0, `canary back to 0 % (run ${run})`, 10_000);
      const written = performance.now();
      if (run >= WARMUP) {
        samples.push(written - t0);
        answers.push(answered - t0);
      }
      await until(async () => {
        const ended = await engine.get(release.id);
        return ended && !isLive(ended.state) ? ended : null;
      }, `release ${release.id} to end`, 20_000, 5);
    }
  } finally {
    await app.close();
    await engine.close();
    await kube.close();
    await redis?.stop();
  }

  const sorted = [...samples].sort((a, b) => a - b);
  const answerSorted = [...answers].sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5);
  const p99 = quantile(sorted, 0.99);
  const flaggerWorstMs = FLAGGER_INTERVAL_S * FLAGGER_THRESHOLD * 1000;
  const flaggerMeanMs = flaggerWorstMs / 2;
  const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(1)} ms`);

  console.log(`\nalert → VirtualService canary weight 0, ${RUNS} runs (after ${WARMUP} warm-ups), release at 20 %\n`);
  console.log('| path | p50 | p99 | max | how |');
  console.log('|---|---|---|---|---|');
  console.log(`| canarybot: POST /webhooks/alertmanager → VS write | ${fmt(p50)} | ${fmt(p99)} | ${fmt(sorted.at(-1)!)} | measured |`);
  console.log(`| (webhook answered 202) | ${fmt(quantile(answerSorted, 0.5))} | ${fmt(quantile(answerSorted, 0.99))} | ${fmt(answerSorted.at(-1)!)} | measured |`);
  console.log(`| Flagger default: interval ${FLAGGER_INTERVAL_S} s × threshold ${FLAGGER_THRESHOLD} | ~${fmt(flaggerMeanMs)} (mean) | ${fmt(flaggerWorstMs)} (worst) | ${fmt(flaggerWorstMs)} | model: next analysis tick |`);
  console.log(`\np99 target ≤ 1 s: ${p99 <= 1000 ? 'met' : 'MISSED'}; Flagger worst case / canarybot p99 = ${(flaggerWorstMs / p99).toFixed(0)}×\n`);
  if (p99 > 1000) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
