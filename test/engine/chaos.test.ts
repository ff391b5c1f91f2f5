// Chaos: engine processes SIGKILLed at random moments, 50 times, while releases run; and Redis
// restarted mid-release. Every release must end promoted or rolled back with each traffic step
// written at most once more than needed (one idempotent re-run), and nothing left live.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Step } from '../../src/core/definition.js';
import { isLive } from '../../src/core/release.js';
import { createEngine, type Engine } from '../../src/engine/create-engine.js';
import { ReleaseStore } from '../../src/engine/release-store.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { collapse, startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { testRedis } from '../support/redis.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KILLS = 50;
const CHILDREN = 2;

const STEPS: Step[] = [
  { kind: 'setWeight', weight: 10 },
  { kind: 'pause', durationMs: 1_500 },
  { kind: 'setWeight', weight: 30 },
  { kind: 'analysis', count: 3 },
  { kind: 'setWeight', weight: 60 },
  { kind: 'setWeight', weight: 100 },
];
// In waves, so kills land on every release: [service, kill count at which it is triggered].
const WAVES: Array<[string, number]> = [
  ['chaos-a', 0],
  ['chaos-b-bad', 0],
  ['chaos-c', 15],
  ['chaos-d', 15],
  ['chaos-e', 30],
  ['chaos-f-bad', 30],
];

/** The child runs one pre-bundled file: starting it must cost little, it is started 50 times. */
async function bundleChild(): Promise<string[]> {
  const outfile = join(root, 'node_modules', '.cache', 'canarybot', 'chaos-engine.mjs');
  try {
    const esbuild = await import('esbuild');
    mkdirSync(dirname(outfile), { recursive: true });
    await esbuild.build({
      entryPoints: [join(root, 'test', 'support', 'chaos-engine.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile,
      logLevel: 'error',
      banner: { js: 'import { createRequire as __cbRequire } from "node:module"; const require = __cbRequire(import.meta.url);' },
    });
    return [outfile];
  } catch {
    return ['--import', 'tsx', join(root, 'test', 'support', 'chaos-engine.ts')];
  }
}

function startChild(args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`chaos engine exited early (${code})`)));
  });
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('chaos', () => {
  const { url, prefix } = testRedis();
  const children = new Set<ChildProcess>();
  let redis: Redis;
  let store: ReleaseStore;
  let producer: Engine;
  let childArgs: string[];

  beforeAll(async () => {
    redis = new Redis(url);
    store = new ReleaseStore(redis, prefix);
    // Never started: it only enqueues, the children do the work.
    producer = createEngine({ redisUrl: url, prefix, ports: fakePorts() });
    childArgs = await bundleChild();
  });

  afterAll(async () => {
    await Promise.all([...children].map((child) => kill(child)));
    await producer.close();
    await redis.quit();
  });

  it('survives 50 SIGKILLs across several releases', { timeout: 240_000 }, async () => {
    const env = { REDIS_URL: url, CHAOS_PREFIX: prefix };
    let kills = 0;
    let nextWave = 0;
    const triggerDue = async (): Promise<void> => {
      while (nextWave < WAVES.length && (WAVES[nextWave]?.[1] ?? Infinity) <= kills) {
        const [service] = WAVES[nextWave++] ?? ['', 0];
        await producer.trigger(triggerFor(canaryDefinition({ name: service, steps: STEPS, settleMs: 50 }), `c0ffee${nextWave}`));
      }
    };
    await triggerDue();

    // Each lane runs an engine, kills it at a random moment, starts it again.
    const lane = async (): Promise<void> => {
      while (kills < KILLS) {
        const child = await startChild(childArgs, env);
        children.add(child);
        await sleep(50 + Math.floor(Math.random() * 500));
        await kill(child);
        children.delete(child);
        kills++;
        await triggerDue();
      }
    };
    await Promise.all(Array.from({ length: CHILDREN }, lane));
    const finisher = await startChild(childArgs, env);
    children.add(finisher);
    const ids = (await store.list({ limit: 100 })).map((release) => release.id);
    const ended = await Promise.all(ids.map((id) => waitForEnd(store, id, 60_000)));
    await kill(finisher, 'SIGTERM');

    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(ended).toHaveLength(WAVES.length);
    const writes = (await redis.lrange(`${prefix}:chaos:writes`, 0, -1)).map((raw) => JSON.parse(raw) as { service: string; canary: number; pid: number });
    const scales = (await redis.lrange(`${prefix}:chaos:scales`, 0, -1)).map((raw) => JSON.parse(raw) as { service: string; replicas: number });
    for (const release of ended) {
      const bad = release.service.endsWith('-bad');
      const mine = writes.filter((w) => w.service === release.service);
      const weights = mine.map((w) => w.canary);
      // The release outlived the process that started it (no child lives as long as its pause).
      expect(new Set(mine.map((w) => w.pid)).size).toBeGreaterThanOrEqual(2);
      expect({ service: release.service, state: release.state }).toEqual({ service: release.service, state: bad ? 'rolled-back' : 'succeeded' });
      expect({ service: release.service, steps: collapse(weights) }).toEqual({ service: release.service, steps: bad ? [10, 30, 0] : [10, 30, 60, 100, 0] });
      // A step is written again only by a new process, after a kill fell between its write and the
      // record's: one process never repeats a write (a slow machine may see two kills in that window).
      expect(repeatsBySameProcess(mine), `${release.service} wrote ${JSON.stringify(mine)}`).toEqual([]);
      expect(scales.filter((s) => s.service === release.service).at(-1)?.replicas).toBe(0);
    }
    expect((await store.list({ state: 'live' })).filter((release) => isLive(release.state))).toEqual([]);
  });
});

/** Writes that repeat the previous write's weight from the same process (a retry, not a restart). */
function repeatsBySameProcess(writes: { canary: number; pid: number }[]): { canary: number; pid: number }[] {
  return writes.filter((write, i) => i > 0 && writes[i - 1]!.canary === write.canary && writes[i - 1]!.pid === write.pid);
}

describe('Redis restarted mid-release', () => {
  let server: RedisServer;
  let engine: Engine | null = null;

  beforeAll(async () => {
    server = await startRedisServer({ persistent: true });
  });

  afterAll(async () => {
    await engine?.close();
    await server.stop();
  });

  it('continues the release from its persisted state', { timeout: 60_000 }, async () => {
    const ports = fakePorts();
    engine = await startTestEngine({ redisUrl: server.url, prefix: 'restart', ports });
    const definition = canaryDefinition({
      name: 'phoenix',
      steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: 1_000 }, { kind: 'setWeight', weight: 70 }, { kind: 'setWeight', weight: 100 }],
    });
    await engine.trigger(triggerFor(definition, 'f1e2d3c4'));
    const [release] = await waitFor(async () => {
      const list = await engine?.list({ service: 'phoenix' });
      return list?.[0]?.phase === 'pause' ? list : null;
    });

    await server.restart();
    const ended = await waitForEnd(engine, release?.id ?? '', 30_000);

    expect(ended.state).toBe('succeeded');
    expect(collapse(ports.router.weightsOf('phoenix'))).toEqual([20, 70, 100, 0]);
  });
});
