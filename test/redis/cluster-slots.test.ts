// Cluster safety of every key and Lua script, on a real redis-server: a whole release (pipeline,
// a second pipeline superseding it, approval, promotion, write-back, chat notifications, all under a
// concurrency limit so they go through the admission queue) runs under
// MONITOR, then every script call (its declared keys and every key its commands touch), every
// MULTI … EXEC and every multi-key command must map to ONE Cluster slot. Scripts the flow did not
// reach are called through the modules' own APIs, and the test fails if any of our scripts was
// never seen — so a new script cannot slip past it. The real Cluster run is test/redis/topologies.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAKE as CHAT_RATE_TAKE } from '../../src/chatops/token-bucket.js';
import { ENQUEUE as ADMISSION_ENQUEUE, UNLOCK as ADMISSION_UNLOCK } from '../../src/engine/admission-queue.js';
import { loadConfig } from '../../src/config.js';
import { CLEAR_PENDING_SCRIPT, CREATE_SCRIPT, EXTEND_LOCK_SCRIPT, FINISH_SCRIPT, LOCK_AND_LOAD_SCRIPT, UPDATE_SCRIPT } from '../../src/engine/store-scripts.js';
import { STORE as WRITEBACK_STORE } from '../../src/gitlab/gitlab-reporter.js';
import { createIntakeForwarder, REQUEUE } from '../../src/gitlab/intake-forwarder.js';
import { ACCEPT_BATCH, intakeInboxKeys } from '../../src/gitlab/intake-inbox.js';
import { createIntakeQueue } from '../../src/gitlab/intake-queue.js';
import { CLAIM, FINISH as OUTBOX_FINISH, TAKE as OUTBOX_TAKE } from '../../src/gitlab/writeback-outbox.js';
import type { TrainRun } from '../../src/core/train/train-run.js';
import { CLAIM_SCRIPT as TRAIN_CLAIM, createRedisTrainStore, RELEASE_SCRIPT as TRAIN_RELEASE } from '../../src/engine/train-store.js';
import { redisConnectionsForUrl } from '../../src/redis/connect-redis.js';
import { createBot, type Bot } from '../../src/server/create-bot.js';
import { NS } from '../mesh/fixtures.js';
import { commentHook, pipelineHook, REVIEWS_YAML, ROOT, startWorld, waitUntil, webhookHeaders, type World } from '../e2e/world.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { keySlot } from '../support/key-slot.js';
import { monitorRedis, scriptId, type MonitoredCall, type RedisMonitor } from '../support/redis-monitor.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { healthyMetrics as healthy, quietAlertmanager } from '../support/healthy-gates.js';

const OUR_SCRIPTS: Record<string, string> = {
  'store create': CREATE_SCRIPT,
  'store update': UPDATE_SCRIPT,
  'store lock and load': LOCK_AND_LOAD_SCRIPT,
  'store finish': FINISH_SCRIPT,
  'store extend lock': EXTEND_LOCK_SCRIPT,
  'store clear pending': CLEAR_PENDING_SCRIPT,
  'webhook inbox accept': ACCEPT_BATCH,
  'intake forwarder requeue': REQUEUE,
  'write-back desired state': WRITEBACK_STORE,
  'write-back outbox claim': CLAIM,
  'write-back outbox finish': OUTBOX_FINISH,
  'write-back rate limit': OUTBOX_TAKE,
  'chat rate limit': CHAT_RATE_TAKE,
  'admission enqueue': ADMISSION_ENQUEUE,
  'admission unlock': ADMISSION_UNLOCK,
  'train lease claim': TRAIN_CLAIM,
  'train lease release': TRAIN_RELEASE,
};
const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

const SECRET = 'slots-webhook-secret';
const PREFIX = `{cbslots-${Date.now().toString(36)}}`;
let world: World;
let redis: RedisServer;
let chat: ChatServer;
let monitor: RedisMonitor;
let bot: Bot;
let pipelinesDir: string;
let calls: MonitoredCall[];

async function deliver(hook: object, event: 'Pipeline Hook' | 'Note Hook'): Promise<number> {
  const response = await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, event), payload: hook });
  return response.statusCode;
}

beforeAll(async () => {
  [world, redis, chat] = await Promise.all([startWorld(), startRedisServer(), startChatServer()]);
  pipelinesDir = mkdtempSync(join(tmpdir(), 'canarybot-slots-'));
  writeFileSync(join(pipelinesDir, 'reviews.yaml'), `${REVIEWS_YAML}  notify:\n    slack: { channel: '#releases' }\n`);
  writeFileSync(join(pipelinesDir, 'tenants.json'), JSON.stringify({ namespaces: { [NS]: { maxConcurrentReleases: 2 } } }));
  monitor = await monitorRedis(redis.url);
  const config = loadConfig({
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    GITLAB_URL: world.gitlab.url,
    GITLAB_TOKEN: world.gitlab.token,
    GITLAB_WEBHOOK_SECRET: SECRET,
    SLACK_WEBHOOK_URL: `${chat.url}/hooks/slack`,
    KUBECONFIG: world.kubeconfig,
    PIPELINES_DIR: pipelinesDir,
    TENANTS_FILE: join(pipelinesDir, 'tenants.json'),
    LOG_LEVEL: 'silent',
  });
  bot = await createBot(config, {
    metricProvider: healthy,
    alertGate: quietAlertmanager,
    writebackPollMs: 50,
    engine: { timing: { lockTtlMs: 2_000, jobLockMs: 2_000, stalledIntervalMs: 1_000, recoverIntervalMs: 1_000 } },
  });
  await bot.start();

  // A release, superseded by a newer pipeline, which is approved and promoted.
  expect(await deliver(pipelineHook('1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b', 1), 'Pipeline Hook')).toBe(202);
  await waitUntil('the first release to await approval', async () => (await bot.engine.list({ state: 'live' }))[0]?.state === 'awaiting-approval');
  expect(await deliver(pipelineHook('2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c', 2), 'Pipeline Hook')).toBe(202);
  const second = await waitUntil('the second release to await approval', async () => {
    const [live] = await bot.engine.list({ state: 'live' });
    return live?.image.endsWith(':2b3c4d5e') && live.state === 'awaiting-approval' ? live : null;
  });
  expect(await deliver(commentHook(world, 2, '/canary approve', ROOT), 'Note Hook')).toBe(202);
  await waitUntil('the second release to be promoted', async () => (await bot.engine.get(second.id))?.state === 'succeeded');
  await waitUntil('the chat notifications', () => chat.posts.length >= 2);

  // Scripts the flow may not reach on its own, through the modules' own APIs.
  await bot.engine.store.extendLock(second.id, 'no-such-token', 1_000);
  const connections = redisConnectionsForUrl(redis.url);
  const client = connections.open({ maxRetriesPerRequest: null });
  const queue = createIntakeQueue({ connection: client, prefix: PREFIX });
  await client.lpush(intakeInboxKeys(PREFIX).processing, JSON.stringify({ id: 'gl-stuck', job: {} }));
  const forwarder = createIntakeForwarder({ redis: client, queue, prefix: PREFIX, sweepMs: 100 });
  await forwarder.start();
  await waitUntil('the stuck item to be requeued', async () => (await client.llen(intakeInboxKeys(PREFIX).processing)) === 0);
  await forwarder.close();
  await queue.close();
  // A train run's record, lease, inbox, alert dedupe and command answer (no train in this flow).
  const trainStore = createRedisTrainStore(client, PREFIX);
  // Ended, so the bot's own train runner does not take this stub of a record over.
  await trainStore.save({ id: 'slots-train-1', createdAt: 1, state: 'aborted' } as TrainRun);
  await trainStore.claim('slots-train-1', 'owner', 1_000);
  await trainStore.pushInbox('slots-train-1', { id: 'm1', input: { type: 'alert', member: 'reviews', name: 'ReviewsErrors' } });
  await trainStore.peekInbox('slots-train-1', 10);
  await trainStore.trimInbox('slots-train-1', 1);
  await trainStore.claimAlert('slots-train-1', 'fingerprint:2026-12-06T10:00:00Z');
  await trainStore.takeCommand('m2', 'driver');
  await trainStore.putReply('m2', { ok: true, message: 'done' });
  await trainStore.release('slots-train-1', 'owner');
  client.disconnect();

  await bot.close();
  calls = await monitor.stop();
}, 120_000);

afterAll(async () => {
  await monitor?.close();
  await redis?.stop();
  await chat?.close();
  await world?.close();
  if (pipelinesDir) rmSync(pipelinesDir, { recursive: true, force: true });
});

describe('Cluster safety of keys and scripts', () => {
  it('CRC16 matches the Cluster specification', () => {
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
  });

  it('ran every one of our scripts', () => {
    const seen = new Set(calls.flatMap((call) => (call.sha ? [call.sha] : [])));
    const missing = Object.entries(OUR_SCRIPTS).filter(([, script]) => !seen.has(sha1(script)) && !seen.has(scriptId(script))).map(([name]) => name);

    expect(missing).toEqual([]);
  });

  it('keeps the keys of every script call, transaction and command in one slot', async () => {
    const crossSlot: string[] = [];
    let scriptCalls = 0;
    for (const call of calls) {
      const keys = await monitor.keysOf(call);
      if (call.sha && keys.length > 0) scriptCalls++;
      const slots = new Set(keys.map(keySlot));
      if (slots.size > 1) crossSlot.push(`${call.command} ${call.sha ?? ''}: ${[...new Set(keys)].join(' ')}`);
    }

    expect(scriptCalls).toBeGreaterThan(50);
    expect(crossSlot).toEqual([]);
  });

  it('puts every key under the hash-tagged prefix', async () => {
    const keys = new Set<string>();
    for (const call of calls) for (const key of await monitor.keysOf(call)) keys.add(key);

    expect(keys.size).toBeGreaterThan(10);
    expect([...keys].filter((key) => !key.startsWith(PREFIX))).toEqual([]);
  });
});
