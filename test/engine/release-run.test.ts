import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelease } from '../../src/core/create-release.js';
import { createExecutor } from '../../src/engine/executor.js';
import { ReleaseRun, type RunDeps } from '../../src/engine/release-run.js';
import { ReleaseStore } from '../../src/engine/release-store.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { fakePorts, type FakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

const { url, prefix } = testRedis();
let redis: Redis;
let store: ReleaseStore;

beforeAll(() => {
  redis = new Redis(url);
  store = new ReleaseStore(redis, prefix);
});

afterAll(async () => {
  await redis.quit();
});

function deps(ports: FakePorts, ticks: string[] = []): RunDeps {
  return {
    store,
    execute: createExecutor({ ports }),
    clock: ports.clock,
    enqueueTick: async (_release, effect) => void ticks.push(effect.key),
    onPersisted: async () => undefined,
    inlineTicks: 0,
  };
}

async function fresh(id: string) {
  await store.create(createRelease(triggerFor(canaryDefinition({ name: id }), 'abcd1234'), id, Date.now()));
  const stored = await store.load(id);
  if (!stored) throw new Error('missing');
  return stored;
}

describe('ReleaseRun', () => {
  it('refuses a write on a stale version and runs none of its effects', async () => {
    const stored = await fresh('cas');
    const winner = fakePorts();
    const loser = fakePorts();
    const first = new ReleaseRun(stored, deps(winner));
    const second = new ReleaseRun(stored, deps(loser));

    await first.apply({ type: 'start' }, { jobId: 'job-1' });
    await first.drain();
    const stale = second.apply({ type: 'start' }, { jobId: 'job-2' });

    await expect(stale).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect(winner.router.preflights).toHaveLength(1);
    expect(loser.router.preflights).toHaveLength(0);
  });

  it('runs a persisted outbox left behind by a crash, then knows the job was consumed', async () => {
    const stored = await fresh('outbox');
    const crashed = new ReleaseRun(stored, deps(fakePorts()));
    await crashed.apply({ type: 'start' }, { jobId: 'job-start' });
    // …the process dies here: the decision is persisted, its preflight never ran.
    const ports = fakePorts();
    const reloaded = await store.load('outbox');
    if (!reloaded) throw new Error('missing');

    const rerun = new ReleaseRun(reloaded, deps(ports));
    await rerun.drain();

    expect(reloaded.outbox.map((e) => e.type)).toEqual(['preflight']);
    expect(ports.router.preflights).toHaveLength(1);
    expect(rerun.hasConsumed('job-start')).toBe(true);
    expect(ports.workloads.calls[0]?.op).toBe('ensure-canary');
    expect(rerun.release.state).toBe('progressing');
  });

  it('runs no effect once the release lock is lost', async () => {
    const stored = await fresh('lost-lock');
    const ports = fakePorts();
    const run = new ReleaseRun(stored, {
      ...deps(ports),
      ensureLocked: async () => {
        throw new Error('lock lost');
      },
    });

    await run.apply({ type: 'start' }, { jobId: 'j1' });

    await expect(run.drain()).rejects.toThrow('lock lost');
    expect(ports.router.preflights).toHaveLength(0);
  });

  it('records scheduled ticks durably and strikes them when consumed', async () => {
    const stored = await fresh('ticks');
    const scheduled: string[] = [];
    const run = new ReleaseRun(stored, deps(fakePorts(), scheduled));

    await run.apply({ type: 'start' }, { jobId: 'j1' });
    await run.drain();
    const [key] = scheduled;
    const afterSchedule = await store.load('ticks');
    await run.apply({ type: 'tick' }, { jobId: 'j2', tickKeys: [key ?? ''] });
    await run.drain();
    const afterTick = await store.load('ticks');

    expect(key).toBeDefined();
    expect(Object.keys(afterSchedule?.ticks ?? {})).toContain(key);
    expect(Object.keys(afterTick?.ticks ?? {})).not.toContain(key);
  });
});
