// Issue 13 proof: fuzzing every POST route of the whole bot over real HTTP. The bot is built by
// createBot (real redis-server with a password, Kubernetes and GitLab API test servers, a chat server
// for response_urls) and listens on a port; requests come from test/support/fuzz (documented payloads
// broken at random, random and deep JSON, wrong encodings and content types, wrong or missing
// credentials, valid signatures over broken bodies). The route table is read from the app: a POST
// route the fuzz does not cover fails the test.
//
// Invariants, per request: no 5xx (nothing is down here, so not even a 503); no answer carries a
// configured secret; a refused request (4xx), and any webhook delivery while no release is live,
// changes nothing in Redis (its keys, their types, sizes and short values), Kubernetes or GitLab. Over the run: no Kubernetes or GitLab write at all, no
// log line with a secret, /metrics grows by a bounded amount, the bot still answers and a valid
// delivery is still accepted. A few requests are then cut off mid-body on the socket.
//
// CANARYBOT_FUZZ_REQUESTS sets the number of requests (CI: 1,000; the issue's size: 10,000);
// CANARYBOT_FUZZ_SEED the seed. The figures are printed.

import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, secretValues, type Config } from '../../src/config.js';
import type { AlertGate } from '../../src/gates/alertmanager.js';
import type { MetricProvider } from '../../src/gates/query-outcome.js';
import { routeTable } from '../../src/server/app.js';
import { createBot, type Bot } from '../../src/server/create-bot.js';
import { createLogger } from '../../src/server/create-logger.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { freePort } from '../support/free-port.js';
import { validGitLabDelivery } from '../support/fuzz/gitlab-deliveries.js';
import { ROUTE_REQUESTS, type FuzzContext, type FuzzRequest } from '../support/fuzz/route-requests.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { ALICE, startWorld, type World } from '../e2e/world.js';

const COUNT = Number(process.env.CANARYBOT_FUZZ_REQUESTS ?? 1_000);
const SEED = Number(process.env.CANARYBOT_FUZZ_SEED ?? 20261206);
const PREFIX = '{fuzz}';

const SECRETS = {
  gitlabWebhook: 'fuzz-gitlab-webhook-secret-6c1f',
  gitlabSigning: `whsec_${Buffer.from('fuzz-signing-key-0123456789abcdef').toString('base64')}`,
  alert: 'fuzz-alert-webhook-secret-91ad',
  slack: 'fuzz-slack-signing-secret-3b7e',
  mattermost: 'fuzzmattermosttoken4d2a',
  redisPassword: 'fuzz-redis-password-5e8c',
  apiToken: 'glpat-fuzz-alice-7f30',
  oauthClientSecret: 'gloas-fuzz-client-secret-2c9b',
};

/** Keys a refused request may still write, each for a stated reason. */
const MAY_CHANGE: { pattern: RegExp; why: string }[] = [
  { pattern: /:chat-intake:nonce:slack:/, why: 'a verified Slack signature is remembered (single use) whatever the body turns out to be' },
  { pattern: /:audit:intake$/, why: 'refusals are audited (issue 13)' },
  // The chat intake queue runs commands accepted earlier, after their answer: its jobs and events move
  // on their own. Its `:id` counter (jobs ever added) stays checked: a refused request adds no job.
  { pattern: /:chat-intake:(?!id$|nonce:)/, why: 'chat commands accepted earlier run in the background' },
  { pattern: /:stalled-check$/, why: "BullMQ workers' periodic check for stalled jobs" },
];

const healthy: MetricProvider = { query: async () => ({ kind: 'value', value: 100, series: 1 }) };
const quiet: AlertGate = { check: async () => [{ name: 'alert:alertmanager', verdict: 'pass', value: 0, threshold: 'no active matching alert' }] };

let world: World;
let redis: RedisServer;
let chat: ChatServer;
let bot: Bot;
let config: Config;
let client: Redis;
let base = '';
let dir = '';
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
const logLeaks: string[] = [];
let logLines = 0;

beforeAll(async () => {
  [world, redis, chat] = await Promise.all([startWorld(), startRedisServer({ password: SECRETS.redisPassword }), startChatServer()]);
  world.gitlab.seed({ tokens: [{ token: SECRETS.apiToken, userId: ALICE.id }] });
  dir = mkdtempSync(join(tmpdir(), 'canarybot-fuzz-'));
  writeFileSync(join(dir, 'chat-users.yaml'), 'slack: { U1: root }\nmattermost: { mm-root: root }\n');
  const port = await freePort();
  config = loadConfig({
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    GITLAB_URL: world.gitlab.url,
    GITLAB_TOKEN: world.gitlab.token,
    GITLAB_WEBHOOK_SECRET: SECRETS.gitlabWebhook,
    GITLAB_WEBHOOK_SIGNING_SECRET: SECRETS.gitlabSigning,
    ALERT_WEBHOOK_SECRET: SECRETS.alert,
    SLACK_SIGNING_SECRET: SECRETS.slack,
    MATTERMOST_TOKEN: SECRETS.mattermost,
    MATTERMOST_URL: chat.url,
    // Sign-in with GitLab on, so POST /auth/refresh reaches GitLab's token endpoint, not a 404.
    GITLAB_OAUTH_CLIENT_ID: 'fuzz-oauth-client',
    GITLAB_OAUTH_CLIENT_SECRET: SECRETS.oauthClientSecret,
    PUBLIC_URL: 'https://canarybot.example.com',
    CHAT_USERS_FILE: join(dir, 'chat-users.yaml'),
    KUBECONFIG: world.kubeconfig,
    PIPELINES_DIR: world.pipelinesDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
  });
  // The bot's own logger (secrets masked) into a sink that looks for any secret that got through.
  const secrets = [...Object.values(SECRETS), ...secretValues(config)];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      logLines += 1;
      for (const secret of secrets) if (text.includes(secret)) logLeaks.push(text.slice(0, 500));
      done();
    },
  });
  const logger = createLogger({ level: 'info', secrets: secretValues(config), destination: sink });
  bot = await createBot(config, { logger, metricProvider: healthy, alertGate: quiet, botUsername: 'canarybot' });
  await bot.start();
  base = await bot.listen();
  client = new Redis(redis.url);
  world.kube.clearRecord();
  world.gitlab.clearCalls();
}, 120_000);

afterAll(async () => {
  agent.destroy();
  client?.disconnect();
  await bot?.close();
  await chat?.close();
  await redis?.stop();
  await world?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Answer = { status: number; headers: IncomingHttpHeaders; body: string } | { error: string };

function send(request: FuzzRequest): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const outgoing = httpRequest(
      { host: url.hostname, port: url.port, path: request.path, method: 'POST', agent, headers: { ...request.headers, 'content-length': String(request.body.length) }, timeout: 60_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (error) => resolve({ error: error.message }));
      },
    );
    outgoing.on('error', (error) => resolve({ error: error.message }));
    outgoing.on('timeout', () => outgoing.destroy(new Error('no answer in 60 s')));
    outgoing.end(request.body);
  });
}

/** Every key with its type, size and (when short) value: what a refused request must leave as it was. */
async function redisState(): Promise<Map<string, string>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch.filter((key) => !MAY_CHANGE.some(({ pattern }) => pattern.test(key))));
  } while (cursor !== '0');
  const types = (await client.pipeline(keys.map((key) => ['type', key])).exec()) ?? [];
  const sizeCommand: Record<string, string> = { string: 'strlen', list: 'llen', hash: 'hlen', set: 'scard', zset: 'zcard', stream: 'xlen' };
  const sizes = (await client.pipeline(keys.map((key, i) => [sizeCommand[String(types[i]?.[1])] ?? 'exists', key])).exec()) ?? [];
  const shortStrings = keys.filter((key, i) => types[i]?.[1] === 'string' && Number(sizes[i]?.[1]) <= 64);
  const values = (await client.pipeline(shortStrings.map((key) => ['get', key])).exec()) ?? [];
  const shortValue = new Map(shortStrings.map((key, i) => [key, String(values[i]?.[1])]));
  return new Map(keys.map((key, i) => [key, `${String(types[i]?.[1])}:${String(sizes[i]?.[1])}${shortValue.has(key) ? `:${shortValue.get(key)}` : ''}`]));
}

function difference(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [key, value] of after) if (before.get(key) !== value) changes.push(`${key}: ${before.get(key) ?? '(none)'} → ${value}`);
  for (const key of before.keys()) if (!after.has(key)) changes.push(`${key}: removed`);
  return changes;
}

const kubeWrites = (): number => world.kube.requests.filter((r) => r.method !== 'GET').length;
// POST /oauth/token exchanges a refresh token: GitLab refuses the fuzz's made-up ones and nothing changes there.
const gitlabWrites = (): number => world.gitlab.calls.filter((c) => c.method !== 'GET' && !c.path.startsWith('/oauth/token')).length;
const tokenExchanges = (): number => world.gitlab.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/oauth/token')).length;

function leakedSecret(answer: { headers: IncomingHttpHeaders; body: string }): string | undefined {
  const text = `${JSON.stringify(answer.headers)}\n${answer.body}`;
  return Object.entries(SECRETS).find(([, secret]) => text.includes(secret))?.[0];
}

async function metricsSize(): Promise<number> {
  return (await fetch(`${base}/metrics`).then((r) => r.text())).length;
}

describe('every POST route under fuzzing, over HTTP', () => {
  it('covers every POST route of the server', () => {
    const posts = routeTable(bot.app).filter((route) => route.method === 'POST').map((route) => `POST ${route.url}`);

    expect(posts.length).toBeGreaterThan(0);
    expect([...new Set(posts)].sort()).toEqual(Object.keys(ROUTE_REQUESTS).sort());
  });

  it(`survives ${COUNT} requests: no 5xx, no secret in an answer, nothing changed by a refused request`, { timeout: 3_600_000 }, async () => {
    const context: FuzzContext = {
      gitlab: { token: SECRETS.gitlabWebhook, signingSecret: SECRETS.gitlabSigning },
      alertSecret: SECRETS.alert,
      slackSecret: SECRETS.slack,
      mattermostToken: SECRETS.mattermost,
      chatUrl: chat.url,
      apiToken: SECRETS.apiToken,
    };
    const routes = Object.keys(ROUTE_REQUESTS);
    const anyRequest = fc.constantFrom(...routes).chain((route) => ROUTE_REQUESTS[route]!(context).map((build) => ({ route, build })));
    const answers = new Map<string, Map<number | string, number>>(routes.map((route) => [route, new Map()]));
    const metricsBefore = await metricsSize();
    let sent = 0;
    let before = await redisState();
    const started = Date.now();

    await fc.assert(
      fc.asyncProperty(anyRequest, async ({ route, build }) => {
        const request = build();
        const writes = { kube: kubeWrites(), gitlab: gitlabWrites() };
        const answer = await send(request);
        sent += 1;
        const tally = answers.get(route)!;
        const key = 'error' in answer ? 'no answer' : answer.status;
        tally.set(key, (tally.get(key) ?? 0) + 1);
        const what = `${route} ${request.path} (${request.body.length} bytes, ${JSON.stringify(request.headers).slice(0, 300)})`;
        if ('error' in answer) {
          // Only a body over the limit may be cut off (the 413 is sent and the connection closed).
          expect(request.body.length, `${what}: ${answer.error}`).toBeGreaterThan(config.webhookBodyLimit);
          before = await redisState();
          return;
        }
        expect(answer.status, `${what} → ${answer.body.slice(0, 300)}`).toBeLessThan(500);
        expect(leakedSecret(answer), `${what} → ${answer.body.slice(0, 300)}`).toBeUndefined();
        if (route === 'POST /webhooks/gitlab') expect(answer.status, `${what}: a broken delivery was accepted`).not.toBe(202);
        const after = await redisState();
        // With no live release, an accepted alert or an ignored GitLab event has nothing to change either.
        if (answer.status >= 400 || route.startsWith('POST /webhooks/')) {
          expect(difference(before, after), `${what} → ${answer.status} changed Redis`).toEqual([]);
          expect({ kube: kubeWrites(), gitlab: gitlabWrites() }, what).toEqual(writes);
        }
        before = after;
      }),
      { numRuns: COUNT, seed: SEED, endOnFailure: true },
    );
    const seconds = (Date.now() - started) / 1000;

    // Cut off mid-body on the socket, on every route: the bot must not mind.
    for (const route of routes) {
      const path = route.split(' ')[1]!.replace(':preset', 'bkmonitor').replace(':id', 'x');
      await new Promise<void>((resolve) => {
        const socket = connect(Number(new URL(base).port), '127.0.0.1', () => {
          socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"alerts":[`);
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
      });
    }

    const valid = validGitLabDelivery(context.gitlab);
    const accepted = await send({ path: '/webhooks/gitlab', ...valid });
    const health = await fetch(`${base}/readyz`);
    const metricsGrowth = (await metricsSize()) - metricsBefore;
    const table = Object.fromEntries([...answers].map(([route, tally]) => [route, Object.fromEntries([...tally].sort())]));
    process.stdout.write(
      `post-routes fuzz: ${sent} requests over ${routes.length} POST routes in ${seconds.toFixed(1)} s, seed ${SEED}; ` +
        `Kubernetes writes ${kubeWrites()}, GitLab writes ${gitlabWrites()} (refused token exchanges ${tokenExchanges()}), log lines ${logLines} (secrets in them: ${logLeaks.length}), /metrics grew ${metricsGrowth} bytes\n` +
        `answers per route: ${JSON.stringify(table)}\n`,
    );

    expect(sent).toBe(COUNT);
    for (const route of routes) expect([...answers.get(route)!.values()].reduce((a, b) => a + b, 0), route).toBeGreaterThan(COUNT / routes.length / 3);
    expect(kubeWrites()).toBe(0);
    expect(gitlabWrites()).toBe(0);
    expect(logLeaks).toEqual([]);
    expect(metricsGrowth).toBeLessThan(32 * 1024);
    expect('status' in accepted ? accepted.status : accepted.error).toBe(202);
    expect(health.status).toBe(200);
  });
});
