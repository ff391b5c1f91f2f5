// The write-back outbox's own contract, with real Redis: coalescing, backoff, budget, and work
// that a crashed (hung) replica held coming due again after its lease.

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WritebackOutbox, type SyncHandler, type WritebackOutboxOptions } from '../../src/gitlab/writeback-outbox.js';
import { testRedis } from '../support/redis.js';

let redis: Redis;
const open: WritebackOutbox[] = [];

beforeAll(() => {
  redis = new Redis(testRedis().url);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

afterAll(() => {
  redis.disconnect();
});

function outbox(handler: SyncHandler, options: Partial<WritebackOutboxOptions> = {}): WritebackOutbox {
  const o = new WritebackOutbox({ redis, prefix: testRedis().prefix, pollMs: 20, backoffBaseMs: 20, backoffMaxMs: 100, ...options }, handler);
  open.push(o);
  return o;
}

describe('WritebackOutbox', () => {
  it('coalesces repeated scheduling of one id while a sync runs', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const o = outbox(async () => {
      runs += 1;
      if (runs === 1) await gate;
      return { kind: 'done' };
    });

    await o.schedule('a');
    await vi.waitFor(() => expect(runs).toBe(1));
    for (let i = 0; i < 10; i += 1) await o.schedule('a');
    release();
    await vi.waitFor(() => expect(runs).toBe(2));
    await new Promise((r) => setTimeout(r, 100));

    expect(runs).toBe(2);
  });

  it('retries a transient outcome with backoff until it is done', async () => {
    const seen: number[] = [];
    const o = outbox(async () => {
      seen.push(Date.now());
      return seen.length < 4 ? { kind: 'transient' } : { kind: 'done' };
    });
    o.start();

    await o.schedule('b');
    await vi.waitFor(() => expect(seen).toHaveLength(4));

    const gaps = seen.slice(1).map((t, i) => t - (seen[i] ?? t));
    expect(gaps.every((g) => g >= 15)).toBe(true);
  });

  it('hands out at most the budget of writes per window', async () => {
    const answers: number[] = [];
    const o = outbox(
      async (_id, tools) => {
        for (let i = 0; i < 4; i += 1) answers.push(await tools.takeWrite());
        return { kind: 'done' };
      },
      { writesPerWindow: 3, windowMs: 60_000 },
    );

    await o.schedule('c');
    await vi.waitFor(() => expect(answers).toHaveLength(4));

    expect(answers.slice(0, 3)).toEqual([0, 0, 0]);
    expect(answers[3]).toBeGreaterThan(0);
  });

  it('gives work held by a hung replica to another one after the lease', async () => {
    const prefix = testRedis().prefix;
    let unblock: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    const byB: string[] = [];
    const a = outbox(async () => {
      await hung;
      return { kind: 'done' };
    }, { prefix, leaseMs: 300 });
    const b = outbox(async (id) => {
      byB.push(id);
      return { kind: 'done' };
    }, { prefix, leaseMs: 300 });

    await a.schedule('d');
    await new Promise((r) => setTimeout(r, 50));
    b.start();
    await new Promise((r) => setTimeout(r, 100));
    const beforeLease = [...byB];
    await vi.waitFor(() => expect(byB).toEqual(['d']));
    unblock();

    expect(beforeLease).toEqual([]);
  });
});
