import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIntakeInbox, type InboxItem, type IntakeInbox } from '../../src/gitlab/intake-inbox.js';
import { signWebhook, signingKey } from '../../src/gitlab/verify-webhook-signature.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { gitlabWebhookRoute } from '../../src/server/routes/gitlab-webhook.js';
import { freePort } from '../support/free-port.js';
import { fixture, noteHook, testDefinition, type Payload } from './helpers.js';
import { startWebhookHarness, type WebhookHarness } from './webhook-harness.js';

const SECRET = 'hook-secret-1';
const SIGNING_SECRET = `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}`;
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

let harness: WebhookHarness;
let app: FastifyInstance;
let inbox: IntakeInbox;
let redis: Redis;
let metrics: Metrics;

beforeAll(async () => {
  metrics = createMetrics();
  harness = await startWebhookHarness({ secret: SECRET, signingSecret: SIGNING_SECRET, metrics, now: () => NOW });
  ({ app, inbox, redis } = harness);
});

afterAll(() => harness.close());
beforeEach(() => harness.clear());

/** Standard Webhooks headers GitLab sends with a signing token. */
function signed(body: string | Buffer, options: { id?: string; at?: number; tamper?: boolean; secret?: string } = {}) {
  const id = options.id ?? `msg_${randomUUID()}`;
  const timestamp = String(Math.floor((options.at ?? NOW) / 1000));
  const signature = signWebhook(signingKey(options.secret ?? SIGNING_SECRET), id, timestamp, Buffer.from(body));
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${options.tamper ? Buffer.from('x'.repeat(32)).toString('base64') : signature.slice(3)}`,
  };
}

/** A delivery as GitLab sends it: token and (the route has a signing secret) a valid signature unless the headers bring their own. */
function post(body: unknown, headers: Record<string, string> = {}, options: { unsigned?: boolean; to?: FastifyInstance } = {}) {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const signature = options.unsigned || options.to || 'webhook-signature' in headers ? {} : signed(payload);
  return (options.to ?? app).inject({
    method: 'POST',
    url: '/webhooks/gitlab',
    headers: { 'content-type': 'application/json', 'x-gitlab-token': SECRET, 'idempotency-key': randomUUID(), ...signature, ...headers },
    payload,
  });
}

/** What is enqueued: the inbox (no forwarder runs here) plus the BullMQ queue behind it. */
const jobCount = (): Promise<number> => harness.jobCount();

async function enqueued(id: string): Promise<InboxItem | undefined> {
  const items = (await redis.lrange(inbox.keys.inbox, 0, -1)).map((raw) => JSON.parse(raw) as InboxItem);
  return items.find((item) => item.id === id);
}

describe('POST /webhooks/gitlab: token', () => {
  it.each([
    ['wrong', { 'x-gitlab-token': 'hook-secret-2' }],
    ['missing', { 'x-gitlab-token': '' }],
    ['longer', { 'x-gitlab-token': `${SECRET}x` }],
  ])('refuses a %s token with 401 and enqueues nothing', async (_name, headers) => {
    const response = await post(fixture('pipeline-success'), headers);

    expect(response.statusCode).toBe(401);
    expect(await jobCount()).toBe(0);
  });

  it('checks the token before the body is parsed', async () => {
    const response = await post('{not json', { 'x-gitlab-token': 'nope' });

    expect(response.statusCode).toBe(401);
  });
});

describe('POST /webhooks/gitlab: bad bodies', () => {
  it('answers malformed JSON with 400', async () => {
    const response = await post('{"object_kind": "pipeline",');

    expect(response.statusCode).toBe(400);
    expect(await jobCount()).toBe(0);
  });

  it('answers a body over the limit with 413 and keeps serving', async () => {
    const hook = fixture('pipeline-success');
    hook.padding = 'x'.repeat(1024 * 1024);

    const big = await post(hook);
    const next = await post(fixture('pipeline-success'));

    expect(big.statusCode).toBe(413);
    expect(next.statusCode).toBe(202);
    expect(await jobCount()).toBe(1);
  });

  it.each([
    ['an array', []],
    ['a string', '"pipeline"'],
    ['no object_kind', { project: { id: 1 } }],
    ['a pipeline without sha', (() => { const h = fixture('pipeline-success'); delete h.object_attributes.sha; return h; })()],
    ['a pipeline id as a string', (() => { const h = fixture('pipeline-success'); h.object_attributes.id = '31'; return h; })()],
    ['a note without its author', (() => { const h = noteHook('/canary approve'); delete h.user; return h; })()],
  ])('answers %s with 400', async (_name, body) => {
    const response = await post(body);

    expect(response.statusCode).toBe(400);
    expect(response.json()).toHaveProperty('error');
    expect(await jobCount()).toBe(0);
  });
});

describe('POST /webhooks/gitlab: accepted', () => {
  it('enqueues a successful pipeline of a watched branch as a neutral intake job', async () => {
    const response = await post(fixture('pipeline-success'));

    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body.accepted).toBe(true);
    expect(body.job).toMatch(/^gl-[0-9a-f]{64}$/);
    const job = await enqueued(body.job);
    expect(job?.job).toEqual({
      kind: 'pipeline',
      project: { id: 1, path: 'gitlab-org/gitlab-test' },
      pipeline: { id: 31, url: 'http://example.com/gitlab-org/gitlab-test/-/pipelines/31' },
      sha: 'bcbb5ec396a2c0f828686f14fac9b80b780504f2',
      ref: 'master',
      variables: { NESTOR_PROD_ENVIRONMENT: 'us-west-1' },
      mr: { projectId: 1, iid: 1, title: 'Test', url: 'http://192.168.64.1:3005/gitlab-org/gitlab-test/merge_requests/1' },
      user: { id: 1, username: 'root' },
    });
  });

  it('enqueues a /canary note on a merge request with its first line only', async () => {
    const response = await post(noteHook('/canary abort  latency is up\n\nsee the dashboard', (h) => { h.object_attributes.discussion_id = 'd1'; h.object_attributes.created_at = '2015-05-17 18:21:36 UTC'; }));

    expect(response.statusCode).toBe(202);
    const job = await enqueued(response.json().job);
    expect(job?.job).toEqual({
      kind: 'note',
      project: { id: 5, path: 'gitlab-org/gitlab-test' },
      note: { id: 1244, discussionId: 'd1', url: 'http://example.com/gitlab-org/gitlab-test/merge_requests/1#note_1244', firstLine: '/canary abort  latency is up', createdAt: Date.UTC(2015, 4, 17, 18, 21, 36) },
      mr: { projectId: 5, iid: 1, authorId: 8 },
      author: { id: 1, username: 'root' },
    });
  });

  it('watches a project by numeric id too', async () => {
    const byId = await buildApp({
      logger: false,
      routes: [gitlabWebhookRoute({ secret: SECRET, definitions: () => [testDefinition({ trigger: { ...testDefinition().trigger, project: 1 } })], botUsername: 'canarybot', inbox })],
    });

    const response = await byId.inject({
      method: 'POST',
      url: '/webhooks/gitlab',
      headers: { 'content-type': 'application/json', 'x-gitlab-token': SECRET, 'idempotency-key': randomUUID() },
      payload: fixture('pipeline-success'),
    });
    await byId.close();

    expect(response.statusCode).toBe(202);
  });
});

describe('POST /webhooks/gitlab: duplicates (no signing secret: the delivery headers or the event name it)', () => {
  let unsigned: FastifyInstance;
  beforeAll(async () => {
    unsigned = await buildApp({
      logger: false,
      routes: [gitlabWebhookRoute({ secret: SECRET, definitions: [testDefinition()], botUsername: 'canarybot', inbox, dedupePrefix: `${harness.prefix}:unsigned-delivery:` })],
    });
  });
  afterAll(() => unsigned.close());

  it.each([
    ['Idempotency-Key', (id: string) => ({ 'idempotency-key': id })],
    ['X-Gitlab-Webhook-UUID', (id: string) => ({ 'idempotency-key': '', 'x-gitlab-webhook-uuid': id })],
  ])('enqueues a delivery repeated with the same %s once', async (_name, headers) => {
    const id = randomUUID();

    const first = await post(fixture('pipeline-success'), headers(id), { to: unsigned });
    const second = await post(fixture('pipeline-success'), headers(id), { to: unsigned });

    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ ignored: 'duplicate delivery' });
    expect(await jobCount()).toBe(1);
  });

  it('falls back to the event itself when the delivery carries no id', async () => {
    const hook = fixture('pipeline-success');
    hook.object_attributes.id = 9000 + Math.floor(Math.random() * 1e6);

    const first = await post(hook, { 'idempotency-key': '' }, { to: unsigned });
    const second = await post(hook, { 'idempotency-key': '' }, { to: unsigned });

    expect([first.statusCode, second.statusCode]).toEqual([202, 200]);
    expect(await jobCount()).toBe(1);
  });

  it('treats different deliveries of different events as different', async () => {
    await post(fixture('pipeline-success'), {}, { to: unsigned });
    await post(noteHook('/canary status'), {}, { to: unsigned });

    expect(await jobCount()).toBe(2);
  });
});

const pipeline = (change: (h: Payload) => void) => {
  const hook = fixture('pipeline-success');
  change(hook);
  return hook;
};

describe('POST /webhooks/gitlab: not for us → 200 ignored', () => {
  it.each([
    ['another project', pipeline((h) => { h.project.path_with_namespace = 'other/project'; h.project.id = 77; }), 'project other/project is not watched'],
    ['another branch', pipeline((h) => { h.object_attributes.ref = 'feature-x'; }), 'branch feature-x is not watched in gitlab-org/gitlab-test'],
    ['a running pipeline', pipeline((h) => { h.object_attributes.status = 'running'; }), 'pipeline status is running, not success'],
    ['a failed pipeline', pipeline((h) => { h.object_attributes.status = 'failed'; }), 'pipeline status is failed, not success'],
    ['a tag pipeline', pipeline((h) => { h.object_attributes.tag = true; }), 'tag pipelines are not watched (master)'],
    ['a push event', fixture('push'), 'unsupported event kind: push'],
    ['a job event', fixture('job'), 'unsupported event kind: build'],
    ['a deployment event', fixture('deployment'), 'unsupported event kind: deployment'],
    ['a merge request event', fixture('mr-merged'), 'merge request events need no action'],
    ['a note on an issue', noteHook('/canary approve', (h) => { h.object_attributes.noteable_type = 'Issue'; delete h.merge_request; }), 'notes on Issue are not commands'],
    ['a note on a commit', noteHook('/canary approve', (h) => { h.object_attributes.noteable_type = 'Commit'; delete h.merge_request; }), 'notes on Commit are not commands'],
    ['a note on a snippet', noteHook('/canary approve', (h) => { h.object_attributes.noteable_type = 'Snippet'; delete h.merge_request; }), 'notes on Snippet are not commands'],
    ['the bot\'s own note', noteHook('/canary status', (h) => { h.user.username = 'CanaryBot'; }), "the bot's own note"],
    ['a note that is not a command', noteHook('This MR needs work.'), 'not a /canary command'],
    ['a command on a later line', noteHook('LGTM\n/canary approve'), 'not a /canary command'],
    ['GitLab\'s own quick action', noteHook('/approve'), 'not a /canary command'],
    ['a word starting with canary', noteHook('/canaryapprove'), 'not a /canary command'],
    ['an edited note', noteHook('/canary approve', (h) => { h.object_attributes.action = 'update'; }), 'edited notes are not re-run'],
    ['a system note', noteHook('/canary approve', (h) => { h.object_attributes.system = true; }), 'system notes are not commands'],
    ['a note in an unwatched project', noteHook('/canary approve', (h) => { h.project.path_with_namespace = 'other/project'; }), 'project other/project is not watched'],
  ])('%s', async (_name, body, reason) => {
    const response = await post(body);

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ignored: reason });
    expect(await jobCount()).toBe(0);
  });
});

describe('POST /webhooks/gitlab: Standard Webhooks signature', () => {
  it('refuses a delivery without a signature when a signing secret is set, though its token is right', async () => {
    const response = await post(fixture('pipeline-success'), {}, { unsigned: true });

    expect(response.statusCode).toBe(401);
    expect(response.json().error).toMatch(/webhook-signature is required/);
    expect(await jobCount()).toBe(0);
  });

  it('takes a replayed signed delivery for a duplicate, whatever unsigned headers the replay changes', async () => {
    const body = JSON.stringify(fixture('pipeline-success'));
    const headers = signed(body);

    const first = await post(body, { ...headers, 'idempotency-key': randomUUID() });
    const replay = await post(body, { ...headers, 'idempotency-key': randomUUID(), 'x-gitlab-webhook-uuid': randomUUID() });

    expect(first.statusCode).toBe(202);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ ignored: 'duplicate delivery' });
    expect(await jobCount()).toBe(1);
  });

  it('accepts a valid signature over the raw body', async () => {
    const body = JSON.stringify(fixture('pipeline-success'), null, 2);

    const response = await post(body, signed(body));

    expect(response.statusCode).toBe(202);
  });

  it('accepts when one of several signatures (secret rotation) matches', async () => {
    const body = JSON.stringify(fixture('pipeline-success'));
    const headers = signed(body);
    headers['webhook-signature'] = `v1,${Buffer.from('old'.repeat(11)).toString('base64')} ${headers['webhook-signature']}`;

    const response = await post(body, headers);

    expect(response.statusCode).toBe(202);
  });

  it.each([
    ['a tampered signature', (body: string) => [body, signed(body, { tamper: true })]],
    ['a tampered body', (body: string) => [body.replace('"success"', '"success" '), signed(body)]],
    ['another secret', (body: string) => [body, signed(body, { secret: 'whsec_' + Buffer.from('z'.repeat(32)).toString('base64') })]],
    ['a timestamp 6 minutes old', (body: string) => [body, signed(body, { at: NOW - 6 * 60_000 })]],
    ['a timestamp 6 minutes ahead', (body: string) => [body, signed(body, { at: NOW + 6 * 60_000 })]],
    ['no webhook-id', (body: string) => { const h: Record<string, string> = signed(body); delete h['webhook-id']; return [body, h]; }],
  ] as const)('refuses %s with 401 and enqueues nothing', async (_name, arrange) => {
    const [body, headers] = arrange(JSON.stringify(fixture('pipeline-success'))) as [string, Record<string, string>];

    const response = await post(body, headers);

    expect(response.statusCode).toBe(401);
    expect(await jobCount()).toBe(0);
  });

  it('leaves the signature alone when no signing secret is configured (the token suffices)', async () => {
    const unsigned = await buildApp({
      logger: false,
      routes: [gitlabWebhookRoute({ secret: SECRET, definitions: [testDefinition()], botUsername: 'canarybot', inbox })],
    });
    const body = JSON.stringify(fixture('pipeline-success'));

    const response = await unsigned.inject({
      method: 'POST',
      url: '/webhooks/gitlab',
      headers: { 'content-type': 'application/json', 'x-gitlab-token': SECRET, 'idempotency-key': randomUUID(), ...signed(body, { tamper: true }) },
      payload: body,
    });
    await unsigned.close();

    expect(response.statusCode).toBe(202);
  });

  it('accepts a timestamp 4 minutes old', async () => {
    const body = JSON.stringify(fixture('pipeline-success'));

    const response = await post(body, signed(body, { at: NOW - 4 * 60_000 }));

    expect(response.statusCode).toBe(202);
  });
});

describe('POST /webhooks/gitlab: Redis unavailable', () => {
  it('answers 503, records nothing, and takes GitLab\'s retry as a new delivery', async () => {
    const down = new Redis(await freePort(), '127.0.0.1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined);
    const { prefix } = harness;
    const route = (inbox: IntakeInbox) => gitlabWebhookRoute({ secret: SECRET, definitions: [testDefinition()], botUsername: 'canarybot', inbox, dedupePrefix: `${prefix}:delivery:`, metrics });
    const unavailable = await buildApp({ logger: false, routes: [route(createIntakeInbox({ redis: down, prefix }))] });
    const available = await buildApp({ logger: false, routes: [route(inbox)] });
    const id = randomUUID();
    const deliver = (target: FastifyInstance) =>
      target.inject({ method: 'POST', url: '/webhooks/gitlab', headers: { 'content-type': 'application/json', 'x-gitlab-token': SECRET, 'idempotency-key': id }, payload: fixture('pipeline-success') });
    const before = (await metrics.webhookDeliveries.get()).values.find((v) => v.labels.outcome === 'unavailable')?.value ?? 0;

    const first = await deliver(unavailable);
    const retry = await deliver(available);
    await unavailable.close();
    await available.close();
    down.disconnect();

    expect(first.statusCode).toBe(503);
    expect(retry.statusCode).toBe(202);
    expect(await jobCount()).toBe(1);
    expect((await metrics.webhookDeliveries.get()).values.find((v) => v.labels.outcome === 'unavailable')?.value).toBe(before + 1);
  });
});

describe('POST /webhooks/gitlab: metrics', () => {
  it('counts deliveries by event and outcome', async () => {
    const before = await metrics.registry.getSingleMetricAsString('canarybot_webhook_deliveries_total');
    expect(before).toBeDefined();

    await post(fixture('pipeline-success'), { 'x-gitlab-token': 'wrong' });
    await post(fixture('push'));
    await post('{');

    const values = (await metrics.webhookDeliveries.get()).values;
    const count = (labels: { event: string; outcome: string }) =>
      values.filter((v) => v.labels.event === labels.event && v.labels.outcome === labels.outcome).reduce((s, v) => s + v.value, 0);
    expect(count({ event: 'unknown', outcome: 'refused' })).toBeGreaterThanOrEqual(1);
    expect(count({ event: 'other', outcome: 'ignored' })).toBeGreaterThanOrEqual(1);
    expect(count({ event: 'unknown', outcome: 'invalid' })).toBeGreaterThanOrEqual(1);
    expect(count({ event: 'pipeline', outcome: 'accepted' })).toBeGreaterThanOrEqual(1);
  });
});
