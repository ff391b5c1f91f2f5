// Real Redis topologies started by the test on free ports: a 3-master Redis Cluster and a Sentinel
// set (master, replica, three Sentinels). On each, a release runs end to end; then, mid-release,
// Sentinel fails over (SENTINEL FAILOVER) or the Cluster master holding canarybot's slot is killed
// and restarted, while `/canary status` comments keep arriving. The release still ends promoted
// with 100 % on stable, every comment acknowledged with 2xx gets its reply (none lost), and any
// comment that could not be written was answered 503 — never 2xx.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/server/create-bot.js';
import { routeWeights, startWorld, waitUntil, type World } from '../e2e/world.js';
import { startRedisCluster, startRedisSentinel, type RedisClusterServers, type SentinelServers } from '../support/redis-topologies.js';
import { approve, deliver, pipeline, startBot, statusCommandStream, unanswered } from './topology-helpers.js';

const REPLY_WAIT_MS = 30_000;

async function awaitingApproval(bot: Bot, image: string) {
  return waitUntil(`the release of ${image} to await approval`, async () => {
    const [live] = await bot.engine.list({ state: 'live' });
    return live?.image.endsWith(image) && live.state === 'awaiting-approval' ? live : null;
  }, 30_000);
}

/** Approve as GitLab would: redelivered until answered 2xx. */
async function approveUntilAccepted(bot: Bot, world: World, iid: number): Promise<number[]> {
  const answers: number[] = [];
  const hook = approve(world, iid);
  for (;;) {
    const status = await deliver(bot, hook, 'Note Hook');
    answers.push(status);
    if (status < 300) return answers;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function releaseThrough(bot: Bot, world: World, sha: string, iid: number, disrupt: () => Promise<void>) {
  expect(await deliver(bot, pipeline(sha, iid), 'Pipeline Hook')).toBe(202);
  const live = await awaitingApproval(bot, sha.slice(0, 8));
  const stream = statusCommandStream(bot, world, iid);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await disrupt();
  const approvals = await approveUntilAccepted(bot, world, iid);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await stream.stop();
  const ended = await waitUntil('the release to end', async () => {
    const release = await bot.engine.get(live.id);
    return release?.endedAt ? release : null;
  }, 45_000);
  const lost = await waitUntil('every acknowledged comment to be answered', () => {
    const missing = unanswered(world, iid, stream.acknowledged);
    return missing.length === 0 ? [] : null;
  }, REPLY_WAIT_MS).catch(() => unanswered(world, iid, stream.acknowledged));
  return { ended, answers: [...stream.answers, ...approvals], acknowledged: stream.acknowledged.length, lost };
}

describe('on a real 3-master Redis Cluster', () => {
  let cluster: RedisClusterServers;
  let world: World;
  let bot: Bot;

  beforeAll(async () => {
    [cluster, world] = await Promise.all([startRedisCluster(3), startWorld()]);
    bot = await startBot(world, { REDIS_CLUSTER_NODES: cluster.nodes });
  }, 120_000);

  afterAll(async () => {
    await bot?.close();
    await world?.close();
    await cluster?.stop();
  });

  it('computes key slots as the servers do (CLUSTER KEYSLOT)', async () => {
    const { keySlot } = await import('../support/key-slot.js');
    for (const key of ['{canarybot}:store:live', '{canarybot}:gitlab-intake-inbox', 'plain-key', '123456789']) expect(keySlot(key)).toBe(await cluster.keySlot(key));
  });

  it('runs a release to promotion through a restart of the master that holds canarybot\'s slot', async () => {
    const master = await cluster.masterOf('{canarybot}');
    const { ended, answers, acknowledged, lost } = await releaseThrough(bot, world, '3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d', 1, () => cluster.restart(master, 1_500));

    expect(ended.state).toBe('succeeded');
    expect(routeWeights(world)).toEqual({ stable: 100 });
    expect(acknowledged).toBeGreaterThan(5);
    expect(lost).toEqual([]);
    expect(answers.filter((status) => status !== 202)).toSatisfy((others: number[]) => others.every((status) => status === 503));
    expect(answers).toContain(503);
  }, 150_000);
});

describe('on a real Sentinel set (master, replica, three Sentinels)', () => {
  let sentinel: SentinelServers;
  let world: World;
  let bot: Bot;

  beforeAll(async () => {
    [sentinel, world] = await Promise.all([startRedisSentinel('canarybot'), startWorld()]);
    bot = await startBot(world, { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.name });
  }, 120_000);

  afterAll(async () => {
    await bot?.close();
    await world?.close();
    await sentinel?.stop();
  });

  it('runs a release to promotion through SENTINEL FAILOVER', async () => {
    const before = await sentinel.currentMaster();
    let after = before;
    const { ended, answers, acknowledged, lost } = await releaseThrough(bot, world, '4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e', 2, async () => {
      after = await sentinel.failover();
    });

    expect(after).not.toBe(before);
    expect(ended.state).toBe('succeeded');
    expect(routeWeights(world)).toEqual({ stable: 100 });
    expect(acknowledged).toBeGreaterThan(5);
    expect(lost).toEqual([]);
    expect(answers.filter((status) => status !== 202)).toSatisfy((others: number[]) => others.every((status) => status === 503));
  }, 150_000);
});
