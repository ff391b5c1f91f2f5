// Issue 13 item 11: the 413 for an oversized body reaches a client that sends its whole body before
// reading the answer (most clients do) — a lingering close, as nginx does, not a reset. Real HTTP
// against the real `canarybot serve`, on every POST route, with a raw socket that reads only after
// its last byte went out: 8 MiB bodies against a 64 KiB limit, by Content-Length and chunked, with
// and without the client's own `Connection: close`. Before the fix the bot closed the socket while
// the body was still arriving and the client got a reset (EPIPE/ECONNRESET) instead of the 413.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServeHarness, type ServeHarness } from '../support/serve-harness.js';
import { startWorld, type World } from './world.js';

const LIMIT = 64 * 1024;
const BODY_BYTES = 8 * 1024 * 1024;
const GITLAB_SECRET = 'oversize-gitlab-secret';
const ALERT_SECRET = 'oversize-alert-secret';

let redis: RedisServer;
let world: World;
let serve: ServeHarness;

beforeAll(async () => {
  [redis, world] = await Promise.all([startRedisServer(), startWorld()]);
  serve = await startServeHarness({
    env: {
      REDIS_URL: redis.url,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: GITLAB_SECRET,
      ALERT_WEBHOOK_SECRET: ALERT_SECRET,
      ALERTMANAGER_URL: 'http://127.0.0.1:9',
      SLACK_SIGNING_SECRET: 'oversize-slack-signing-secret',
      MATTERMOST_TOKEN: 'oversize-mattermost-token',
      MATTERMOST_URL: 'http://127.0.0.1:9',
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      PROMETHEUS_URL: 'http://127.0.0.1:9',
      PUBLIC_URL: 'https://canarybot.example.com',
      WEBHOOK_BODY_LIMIT: String(LIMIT),
    },
  });
  await serve.start();
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await world?.close();
  await redis?.stop();
});

/** Every POST route, with the credentials that let the request reach its body. */
const routes = (): { path: string; type: string; headers: Record<string, string> }[] => [
  { path: '/webhooks/gitlab', type: 'application/json', headers: { 'X-Gitlab-Token': GITLAB_SECRET, 'X-Gitlab-Event': 'Note Hook' } },
  { path: '/webhooks/alertmanager', type: 'application/json', headers: { Authorization: `Bearer ${ALERT_SECRET}` } },
  { path: '/webhooks/alerts/bkmonitor', type: 'application/json', headers: { Authorization: `Bearer ${ALERT_SECRET}` } },
  { path: '/chatops/slack', type: 'application/x-www-form-urlencoded', headers: {} },
  { path: '/chatops/mattermost', type: 'application/x-www-form-urlencoded', headers: {} },
  { path: '/api/releases/r1/commands', type: 'application/json', headers: { Authorization: `Bearer ${world.gitlab.token}` } },
  { path: '/auth/session', type: 'application/json', headers: {} },
];

interface Answer { status: number | null; error: string | null }

/** Write the whole request first, read only after the last byte went out (as curl and most clients do). */
function sendThenRead(port: number, path: string, headers: Record<string, string>, options: { chunked: boolean; close: boolean }): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    let received = '';
    let error: string | null = null;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', (caught: NodeJS.ErrnoException) => (error = caught.code ?? caught.message));
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      resolve({ status: status ? Number(status) : null, error });
    });
    const lines = [`POST ${path} HTTP/1.1`, 'Host: canarybot', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    if (options.close) lines.push('Connection: close');
    lines.push(options.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${BODY_BYTES}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    const body = Buffer.alloc(BODY_BYTES, 'a');
    if (options.chunked) socket.write(`${BODY_BYTES.toString(16)}\r\n`);
    socket.write(body);
    socket.write(options.chunked ? '\r\n0\r\n\r\n' : '', () => {
      socket.resume();
      socket.end();
    });
  });
}

describe('an oversized body on every POST route', () => {
  it('is answered 413 and the client that reads last receives it', { timeout: 120_000 }, async () => {
    const port = Number(new URL(serve.url).port);
    const results: string[] = [];
    for (const route of routes()) {
      const headers = { 'Content-Type': route.type, ...route.headers };
      for (const options of [{ chunked: false, close: false }, { chunked: true, close: false }, { chunked: false, close: true }]) {
        const answer = await sendThenRead(port, route.path, headers, options);
        results.push(`${route.path}${options.chunked ? ' chunked' : ''}${options.close ? ' close' : ''}: ${answer.status ?? answer.error}`);
        expect({ route: route.path, ...options, ...answer }).toEqual({ route: route.path, ...options, status: 413, error: null });
      }
    }
    process.stdout.write(`oversize bodies (${BODY_BYTES} bytes, limit ${LIMIT}): ${results.length} requests, every answer 413 received\n${results.join('\n')}\n`);
    // The bot is still serving.
    expect((await serve.get('/readyz')).status).toBe(200);
  });
});
