// Sizing: Redis memory and process RSS per live release. N releases of N services (one slot each)
// are started on the real engine (BullMQ on a real redis-server) with in-memory mesh ports, each held
// live at 20 % by a one-hour pause; Redis used_memory and the process RSS are read before and after
// (after a GC when --expose-gc is given), next to the same engine idle as the baseline.
//
//   node --expose-gc --import tsx bench/sizing/index.ts [releases]     (default 200)

import { Redis } from 'ioredis';
import type { Definition } from '../../src/core/definition.js';
import { createEngine } from '../../src/engine/create-engine.js';
import { canaryDefinition, triggerFor } from '../../test/support/engine-definitions.js';
import { fakePorts } from '../../test/support/fakes.js';
import { startRedisServer } from '../../test/support/redis-server.js';

const N = Number(process.argv[2] ?? 200);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const gc = (globalThis as { gc?: () => void }).gc;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

function rss(): number {
  gc?.();
  return process.memoryUsage().rss;
}

const server = await startRedisServer();
const redis = new Redis(server.url);
const definitions: Definition[] = Array.from({ length: N }, (_, i) =>
  canaryDefinition({ name: `svc-${i}`, steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: 3_600_000 }, { kind: 'setWeight', weight: 100 }] }),
);
const ports = { ...fakePorts(), clock: { now: () => Date.now() } };
const engine = createEngine({ redisUrl: server.url, prefix: '{sizing}', ports, definitions, concurrency: 16 });
try {
  await engine.start();
  await sleep(500);
  const before = { redis: await usedMemory(redis), rss: rss() };
  for (const [i, definition] of definitions.entries()) {
    const result = await engine.trigger(triggerFor(definition, `s${String(i).padStart(7, '0')}`));
    if (!result.enqueued) throw new Error(`release ${i} not enqueued`);
  }
  const started = Date.now();
  for (;;) {
    const live = await engine.list({ state: 'live', limit: N + 10 });
    const paused = live.filter((release) => release.phase === 'pause' || release.state === 'paused').length;
    if (paused >= N) break;
    if (Date.now() - started > 300_000) throw new Error(`only ${paused} of ${N} releases reached their pause`);
    await sleep(250);
  }
  await sleep(1_000);
  const after = { redis: await usedMemory(redis), rss: rss() };
  const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
  console.log(`| live releases | Redis used_memory | per release | process RSS | per release |`);
  console.log(`|---|---|---|---|---|`);
  console.log(`| 0 (idle engine) | ${kib(before.redis)} KiB | | ${kib(before.rss)} KiB | |`);
  console.log(`| ${N} | ${kib(after.redis)} KiB | ${kib((after.redis - before.redis) / N)} KiB | ${kib(after.rss)} KiB | ${kib((after.rss - before.rss) / N)} KiB |`);
  console.log(`(gc before each RSS reading: ${gc ? 'yes' : 'no, run with --expose-gc'})`);
} finally {
  await engine.close();
  redis.disconnect();
  await server.stop();
}
