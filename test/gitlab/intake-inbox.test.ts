// The webhook inbox on a real Redis: deliveries accepted in the same event-loop turn share one script
// call, and batching changes nothing about which delivery is fresh, the order of the inbox, or what a
// failure leaves behind.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIntakeInbox, INBOX_REDIS_OPTIONS, intakeJobId, MAX_ACCEPT_BATCH, type InboxItem, type IntakeInbox } from '../../src/gitlab/intake-inbox.js';
import type { IntakeJob } from '../../src/gitlab/intake-job.js';
import { testRedis } from '../support/redis.js';
import { startRedisServer } from '../support/redis-server.js';

let redis: Redis;
let inbox: IntakeInbox;
let prefix: string;

beforeAll(() => {
  const test = testRedis();
  prefix = test.prefix;
  redis = new Redis(test.url);
  inbox = createIntakeInbox({ redis, prefix });
});

afterEach(async () => {
  vi.restoreAllMocks();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
});

afterAll(async () => {
  await redis.quit();
});

function item(n: number): InboxItem {
  const job: IntakeJob = {
    kind: 'note',
    project: { id: 5, path: 'gitlab-org/gitlab-test' },
    note: { id: n, firstLine: '/canary status' },
    mr: { projectId: 5, iid: 1 },
    author: { id: 1, username: 'root' },
  };
  return { id: intakeJobId(`${n}${randomUUID().replaceAll('-', '')}`), job };
}

const dedupeKey = (i: InboxItem): string => `${prefix}:d:${i.id}`;

async function inboxIds(): Promise<string[]> {
  return (await redis.lrange(inbox.keys.inbox, 0, -1)).map((raw) => (JSON.parse(raw) as InboxItem).id);
}

/** Counts the script calls the inbox makes from now on. */
function countScriptCalls(): () => number {
  const spy = vi.spyOn(redis as unknown as Record<string, (...args: unknown[]) => unknown>, 'canarybotIntakeAcceptBatch');
  return () => spy.mock.calls.length;
}

describe('intake inbox', () => {
  it('accepts the deliveries of one turn in one script call, in arrival order', async () => {
    const items = Array.from({ length: 20 }, (_, n) => item(n));
    const calls = countScriptCalls();

    const fresh = await Promise.all(items.map((i) => inbox.accept(dedupeKey(i), 60, i)));

    expect(fresh).toEqual(items.map(() => true));
    expect(calls()).toBe(1);
    expect(await inboxIds()).toEqual(items.map((i) => i.id));
    expect(await redis.ttl(dedupeKey(items[0]!))).toBeGreaterThan(55);
  });

  it(`splits a turn of more than ${MAX_ACCEPT_BATCH} deliveries into calls of at most ${MAX_ACCEPT_BATCH}`, async () => {
    const items = Array.from({ length: MAX_ACCEPT_BATCH * 2 + 1 }, (_, n) => item(n));
    const calls = countScriptCalls();

    const fresh = await Promise.all(items.map((i) => inbox.accept(dedupeKey(i), 60, i)));

    expect(fresh.every(Boolean)).toBe(true);
    expect(calls()).toBe(3);
    expect(await inboxIds()).toEqual(items.map((i) => i.id));
  });

  it('accepts a delivery delivered twice in the same turn once', async () => {
    const [a, b] = [item(1), item(2)];

    const fresh = await Promise.all([a, b, a].map((i) => inbox.accept(dedupeKey(i), 60, i)));

    expect(fresh).toEqual([true, true, false]);
    expect(await inboxIds()).toEqual([a.id, b.id]);
  });

  it('refuses a delivery seen in an earlier turn and accepts its new neighbours', async () => {
    const [seen, next] = [item(1), item(2)];
    expect(await inbox.accept(dedupeKey(seen), 60, seen)).toBe(true);

    const fresh = await Promise.all([next, seen].map((i) => inbox.accept(dedupeKey(i), 60, i)));

    expect(fresh).toEqual([true, false]);
    expect(await inboxIds()).toEqual([seen.id, next.id]);
  });

  it('rejects every delivery of a failed call and records none of them, so a retry is fresh', async () => {
    const items = [item(1), item(2)];
    await redis.set(inbox.keys.inbox, 'not a list'); // the push fails with WRONGTYPE

    const outcomes = await Promise.allSettled(items.map((i) => inbox.accept(dedupeKey(i), 60, i)));

    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(await redis.exists(...items.map(dedupeKey))).toBe(0);
    await redis.del(inbox.keys.inbox);
    expect(await Promise.all(items.map((i) => inbox.accept(dedupeKey(i), 60, i)))).toEqual([true, true]);
  });

  it('reports the inbox depth, waiting and in processing', async () => {
    const items = [item(1), item(2), item(3)];
    await Promise.all(items.map((i) => inbox.accept(dedupeKey(i), 60, i)));
    await redis.lmove(inbox.keys.inbox, inbox.keys.processing, 'LEFT', 'RIGHT');

    expect(await inbox.depth()).toBe(3);
  });
});

describe('intake inbox on its own connection (INBOX_REDIS_OPTIONS), Redis away', () => {
  it('fails a delivery within seconds instead of waiting for Redis, and accepts again once Redis is back', async () => {
    const server = await startRedisServer();
    const connection = new Redis(server.url, INBOX_REDIS_OPTIONS);
    connection.on('error', () => undefined);
    const away = createIntakeInbox({ redis: connection, prefix: 'away' });
    try {
      expect(await away.accept('away:d:1', 60, item(1))).toBe(true);

      await server.halt();
      const started = Date.now();
      await expect(away.accept('away:d:2', 60, item(2))).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(INBOX_REDIS_OPTIONS.commandTimeout + 1_000);

      await server.start();
      const deadline = Date.now() + 10_000;
      let fresh: boolean | undefined;
      while (fresh === undefined && Date.now() < deadline) {
        fresh = await away.accept('away:d:2', 60, item(2)).catch(() => undefined);
        if (fresh === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      expect(fresh).toBe(true);
    } finally {
      connection.disconnect();
      await server.stop();
    }
  });
});
