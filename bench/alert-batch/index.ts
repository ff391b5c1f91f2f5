// One Alertmanager payload of 10,000 firing alerts against 20 live releases: the longest the event
// loop is blocked (perf_hooks.monitorEventLoopDelay, max) while the server takes it, for the batched
// matching (live releases read once, matched in slices that yield) against per-alert dispatch (each
// alert reads the live releases and matches alone, as before), measured in the same run on a real
// redis-server over real HTTP. Prints a table and the ratio.
//
//   npx tsx bench/alert-batch/index.ts [alerts] [releases]     (default 10000 alerts, 20 releases)

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createEngine, type Engine } from '../../src/engine/create-engine.js';
import { buildApp } from '../../src/server/app.js';
import { alertmanagerWebhookRoutes } from '../../src/server/routes/alertmanager-webhook.js';
import { canaryDefinition, triggerFor } from '../../test/support/engine-definitions.js';
import { fakePorts } from '../../test/support/fakes.js';
import { startRedisServer } from '../../test/support/redis-server.js';

const ALERTS = Number(process.argv[2] ?? 10_000);
const RELEASES = Number(process.argv[3] ?? 20);
const SECRET = 'bench-secret';

type Mode = 'batched' | 'per-alert';

async function run(mode: Mode, redisUrl: string): Promise<{ maxMs: number; p99Ms: number; totalMs: number; status: number }> {
  const prefix = `bench-alerts-${mode}-${Date.now().toString(36)}`;
  const definitions = Array.from({ length: RELEASES }, (_, i) =>
    canaryDefinition({ name: `svc-${i}`, steps: [{ kind: 'pause', durationMs: 60_000 }], alerts: [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: `svc-${i}` }] }] }),
  );
  // No workers: the releases stay `pending`, which is live, so every payload has 20 releases to match.
  const engine: Engine = createEngine({ redisUrl, prefix, ports: fakePorts(), definitions });
  for (const [i, definition] of definitions.entries()) await engine.trigger(triggerFor(definition, `${i.toString(16).padStart(8, 'a')}`));
  const dispatch =
    mode === 'batched'
      ? engine
      : {
          // As main dispatched a payload before: one engine call per alert, all at once.
          alertBatch: async (alerts: Parameters<Engine['alertBatch']>[0]) => {
            const results = await Promise.all(alerts.map((alert) => engine.alert(alert)));
            return { releaseIds: [...new Set(results.flatMap((r) => r.releaseIds))] };
          },
        };
  const app = await buildApp({ logger: false, bodyLimit: 64 * 1024 * 1024, routes: [alertmanagerWebhookRoutes({ engine: dispatch, secret: SECRET })] });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const startsAt = new Date().toISOString();
  const payload = JSON.stringify({
    version: '4',
    status: 'firing',
    receiver: 'canarybot',
    groupKey: 'bench',
    alerts: Array.from({ length: ALERTS }, (_, i) => ({
      status: 'firing',
      labels: { alertname: `Alert${i}`, service: `svc-${i % (RELEASES * 2)}`, severity: 'critical', instance: `10.0.${i % 250}.${i % 200}:8080` },
      annotations: { summary: 'bench' },
      startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: `${mode}${i.toString(16)}`,
    })),
  });
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const started = performance.now();
  const response = await fetch(`${address}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` }, body: payload });
  await response.text();
  const totalMs = performance.now() - started;
  histogram.disable();
  await app.close();
  await engine.close();
  return { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6, totalMs, status: response.status };
}

const redis = await startRedisServer();
try {
  // Warm-up (JIT, Redis scripts), then the measured runs.
  await run('batched', redis.url);
  const perAlert = await run('per-alert', redis.url);
  const batched = await run('batched', redis.url);
  const row = (name: string, r: typeof batched): string =>
    `| ${name.padEnd(24)} | ${String(r.status).padStart(6)} | ${r.maxMs.toFixed(0).padStart(14)} | ${r.p99Ms.toFixed(0).padStart(14)} | ${r.totalMs.toFixed(0).padStart(10)} |`;
  console.log(`one Alertmanager payload: ${ALERTS} firing alerts, ${RELEASES} live releases (real Redis, real HTTP)`);
  console.log('| dispatch                 | answer | max loop delay ms | p99 loop delay ms | answer ms |');
  console.log('|--------------------------|--------|----------------|----------------|------------|');
  console.log(row('per alert (baseline)', perAlert));
  console.log(row('batched, yielding', batched));
  console.log(`ratio max loop delay batched / per-alert: ${(batched.maxMs / perAlert.maxMs).toFixed(2)}`);
} finally {
  await redis.stop();
}
