// A chat command the user was told failed must never run: with a real redis-server stopped while a
// Mattermost command arrives and started again, the refused command is not in the queue and the
// handler never sees it; a command after the restart runs once.

import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_SUBMIT_REDIS_OPTIONS, createQueuedChatIntake, type ChatIntake } from '../../src/chatops/chat-intake.js';
import type { ChatRequest } from '../../src/chatops/chat-request.js';
import { buildApp } from '../../src/server/app.js';
import { mattermostRoute } from '../../src/server/routes/mattermost.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { mattermostSlash } from './slash-requests.js';

const TOKEN = 'mm-outage-token';

let redis: RedisServer;
let connection: Redis;
let submitConnection: Redis;
let intake: ChatIntake;
let app: FastifyInstance;
const handled: ChatRequest[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
  connection.on('error', () => undefined);
  submitConnection = new Redis(redis.url, { ...CHAT_SUBMIT_REDIS_OPTIONS, retryStrategy: () => 100 });
  submitConnection.on('error', () => undefined);
  intake = createQueuedChatIntake({
    connection,
    submitConnection,
    prefix: 'outage',
    handler: async (request) => {
      handled.push(request);
    },
  });
  app = await buildApp({ logger: false, routes: [mattermostRoute({ intake, token: TOKEN, submitTimeoutMs: 1_000 })] });
});

afterAll(async () => {
  await app?.close();
  await intake?.close();
  connection?.disconnect();
  submitConnection?.disconnect();
  await redis?.stop();
});

const command = (text: string) => app.inject(mattermostSlash(TOKEN, { user_id: 'u1', user_name: 'rm', text, response_url: 'http://mattermost.invalid/hooks/r' }));

describe('chat commands during a Redis outage', () => {
  it('refuses a command while Redis is down and never runs it after Redis is back', async () => {
    await redis.halt();
    const refused = await command('abort reviews during-outage');
    await redis.start();
    await waitFor(() => submitConnection.status === 'ready' && connection.status === 'ready');
    // Longer than any reconnect and offline-queue flush would take.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const afterOutage = handled.map((request) => request.text);
    const accepted = await command('abort reviews after-restart');
    await waitFor(() => handled.some((request) => request.text.includes('after-restart')));
    const queued = await new Redis(redis.url).keys('outage:chat-intake:*');

    console.info(`chat outage: 1 Redis restart, refused ${JSON.stringify(refused.json().text)}, handled after restart ${JSON.stringify(afterOutage)}`);
    expect(refused.json().text).toMatch(/nothing was changed/);
    expect(afterOutage).toEqual([]);
    expect(accepted.json().text).toMatch(/Working on it/);
    expect(handled.map((request) => request.text)).toEqual(['abort reviews after-restart']);
    expect(queued.length).toBeGreaterThan(0);
  }, 60_000);
});

async function waitFor(probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
