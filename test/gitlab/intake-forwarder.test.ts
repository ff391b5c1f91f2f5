// The intake forwarder on a real Redis: inbox items reach the `gitlab-intake` BullMQ queue exactly
// once — also after a crash between the move and the add, and with two forwarders on one Redis.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createIntakeForwarder, type IntakeForwarder } from '../../src/gitlab/intake-forwarder.js';
import { createIntakeInbox, intakeJobId, type InboxItem, type IntakeInbox } from '../../src/gitlab/intake-inbox.js';
import type { IntakeJob } from '../../src/gitlab/intake-job.js';
import { createIntakeQueue, type IntakeQueue } from '../../src/gitlab/intake-queue.js';
import { testRedis } from '../support/redis.js';

let redis: Redis;
let queue: IntakeQueue;
let inbox: IntakeInbox;
let prefix: string;
const forwarders: IntakeForwarder[] = [];

beforeAll(() => {
  const test = testRedis();
  prefix = test.prefix;
  redis = new Redis(test.url);
  queue = createIntakeQueue({ connection: { url: test.url }, prefix });
  inbox = createIntakeInbox({ redis, prefix });
});

afterEach(async () => {
  await Promise.all(forwarders.splice(0).map((f) => f.close()));
  await queue.obliterate({ force: true });
  await redis.del(inbox.keys.inbox, inbox.keys.processing);
});

afterAll(async () => {
  await queue.close();
  await redis.quit();
});

function item(n: number): InboxItem {
  const job: IntakeJob = {
    kind: 'note',
    project: { id: 5, path: 'gitlab-org/gitlab-test' },
    note: { id: n, discussionId: `d${n}`, url: `http://example.com/note_${n}`, firstLine: '/canary status' },
    mr: { projectId: 5, iid: 1, authorId: 8 },
    author: { id: 1, username: 'root' },
  };
  return { id: intakeJobId(`${n}-${randomUUID()}`.replaceAll('-', '')), job };
}

function forwarder(): IntakeForwarder {
  const f = createIntakeForwarder({ redis, queue, prefix, blockSeconds: 0.2, sweepMs: 0 });
  forwarders.push(f);
  return f;
}

async function accept(items: InboxItem[]): Promise<void> {
  for (const i of items) expect(await inbox.accept(`${prefix}:d:${i.id}`, 60, i)).toBe(true);
}

/** Waits until the inbox and the processing list are empty. */
async function drained(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await inbox.depth()) > 0) {
    if (Date.now() > deadline) throw new Error(`inbox still holds ${await inbox.depth()} items`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function jobIds(): Promise<string[]> {
  const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'paused'], 0, -1);
  return jobs.map((j) => j.id ?? '').sort();
}

describe('intake forwarder', () => {
  it('moves every inbox item into BullMQ once, under its job id, with its data', async () => {
    const items = [item(1), item(2), item(3)];
    await accept(items);
    await forwarder().start();

    await drained();

    expect(await jobIds()).toEqual(items.map((i) => i.id).sort());
    const job = await queue.getJob(items[1]!.id);
    expect(job?.name).toBe('note');
    expect(job?.data).toEqual(items[1]!.job);
  });

  it('accepts a delivery once: a second accept of the same dedupe key enqueues nothing', async () => {
    const i = item(4);
    await accept([i]);

    expect(await inbox.accept(`${prefix}:d:${i.id}`, 60, i)).toBe(false);
    expect(await redis.llen(inbox.keys.inbox)).toBe(1);
  });

  it('recovers an item left between move and add by a crash, without a duplicate job', async () => {
    const [added, notAdded] = [item(5), item(6)];
    await accept([added, notAdded]);
    // A forwarder that crashed: both items moved to processing; one was added to BullMQ, neither removed.
    await redis.lmove(inbox.keys.inbox, inbox.keys.processing, 'LEFT', 'RIGHT');
    await redis.lmove(inbox.keys.inbox, inbox.keys.processing, 'LEFT', 'RIGHT');
    await queue.add(added.job.kind, added.job, { jobId: added.id });
    expect(await redis.llen(inbox.keys.processing)).toBe(2);

    await forwarder().start();
    await drained();

    expect(await jobIds()).toEqual([added.id, notAdded.id].sort());
  });

  it('shares one Redis between two forwarders: every item exactly once', async () => {
    const items = Array.from({ length: 200 }, (_, n) => item(100 + n));
    await Promise.all([forwarder().start(), forwarder().start()]);
    await accept(items);

    await drained();

    expect(await jobIds()).toEqual(items.map((i) => i.id).sort());
  });

  it('pushes stale processing items back while running (a replica that died and never came back)', async () => {
    const i = item(8);
    const f = createIntakeForwarder({ redis, queue, prefix, blockSeconds: 0.2, sweepMs: 100 });
    forwarders.push(f);
    await f.start();
    // Left in processing after this forwarder started, so only the periodic sweep can find it.
    await redis.rpush(inbox.keys.processing, JSON.stringify(i));

    await drained();

    expect(await jobIds()).toEqual([i.id]);
  });
});
