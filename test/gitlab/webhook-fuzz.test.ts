// Fuzzing POST /webhooks/gitlab: GitLab's documented payloads, broken on a field the bot reads
// (missing, wrong type, impossible value), plus noise elsewhere (huge strings, random keys),
// re-encoded badly (truncated, flipped bytes, invalid UTF-8, UTF-16, BOM), sent with random headers
// and content types. Never a 5xx, never a crash, never a job. FUZZ_COUNT sets the number of
// deliveries (default 500).

import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingKey, signWebhook } from '../../src/gitlab/verify-webhook-signature.js';
import { fixture, noteHook, type Payload } from './helpers.js';
import { startWebhookHarness, type WebhookHarness } from './webhook-harness.js';

const SECRET = 'fuzz-secret';
const SIGNING_SECRET = `whsec_${Buffer.from('s'.repeat(32)).toString('base64')}`;
const COUNT = Number(process.env.FUZZ_COUNT ?? 500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);

let harness: WebhookHarness;
let app: FastifyInstance;

beforeAll(async () => {
  harness = await startWebhookHarness({ secret: SECRET, signingSecret: SIGNING_SECRET });
  app = harness.app;
});

afterAll(() => harness.close());

const jobCount = (): Promise<number> => harness.jobCount();

/** Payloads the route would enqueue as they are. */
const BASES: Record<string, () => Payload> = {
  pipeline: () => fixture('pipeline-success'),
  note: () => noteHook('/canary approve'),
};

/** Fields the route reads, each with the JSON type it must have; breaking one must stop the delivery. */
const REQUIRED: Record<string, { path: string[]; type: 'int' | 'string' | 'sha' | 'object' }[]> = {
  pipeline: [
    { path: ['object_attributes'], type: 'object' },
    { path: ['object_attributes', 'id'], type: 'int' },
    { path: ['object_attributes', 'ref'], type: 'string' },
    { path: ['object_attributes', 'sha'], type: 'sha' },
    { path: ['object_attributes', 'status'], type: 'string' },
    { path: ['project'], type: 'object' },
    { path: ['project', 'id'], type: 'int' },
    { path: ['project', 'path_with_namespace'], type: 'string' },
  ],
  note: [
    { path: ['user'], type: 'object' },
    { path: ['user', 'id'], type: 'int' },
    { path: ['user', 'username'], type: 'string' },
    { path: ['project'], type: 'object' },
    { path: ['project', 'id'], type: 'int' },
    { path: ['project', 'path_with_namespace'], type: 'string' },
    { path: ['object_attributes', 'id'], type: 'int' },
    { path: ['object_attributes', 'note'], type: 'string' },
    { path: ['object_attributes', 'noteable_type'], type: 'string' },
    { path: ['merge_request', 'iid'], type: 'int' },
  ],
};

const hugeString = fc.constantFrom(10, 1000, 100_000, 600_000, 1_100_000).chain((size) =>
  fc.constantFrom('x', 'é', '\u0000', '"', '\\', '🐤').map((unit) => unit.repeat(size)),
);

/** A value that is never of the given type. */
function wrongValue(type: 'int' | 'string' | 'sha' | 'object'): fc.Arbitrary<unknown> {
  const notNumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 3 }));
  const notString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }));
  switch (type) {
    case 'int':
      return fc.oneof(notNumber, fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER + 2, Infinity, NaN));
    case 'string':
      return notString;
    case 'sha':
      return fc.oneof(notString, fc.constantFrom('', 'xyz', 'not-a-sha', 'g'.repeat(40), 'a'.repeat(65)), hugeString);
    case 'object':
      return fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
  }
}

type Mutation = (payload: Payload) => void;

function setPath(payload: Payload, path: string[], value: unknown, remove = false): void {
  let node: Payload = payload;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Payload;
  }
  const last = path[path.length - 1]!;
  if (remove) delete node[last];
  else node[last] = value;
}

function breaking(kind: string): fc.Arbitrary<Mutation> {
  return fc.constantFrom(...REQUIRED[kind]!).chain((field) =>
    fc.oneof(
      fc.constant<Mutation>((p) => setPath(p, field.path, undefined, true)),
      wrongValue(field.type).map<Mutation>((value) => (p) => setPath(p, field.path, value)),
    ),
  );
}

const noise: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 3 })).map<Mutation>(([key, value]) => (p) => {
    if (key !== 'object_kind') p[key] = value;
  }),
  fc.tuple(fc.constantFrom('commit', 'builds', 'repository', 'labels', 'source_pipeline'), hugeString).map<Mutation>(([key, value]) => (p) => {
    p[key] = value;
  }),
  fc.constantFrom<Mutation>((p) => delete p.builds, (p) => (p.object_kind = 'pipeline'), (p) => (p.object_kind = 'note')),
);

type Encoding = (json: string) => Buffer | string;
const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  fc.constant<Encoding>((json) => json),
  fc.constant<Encoding>((json) => Buffer.from(json, 'utf16le')),
  fc.constant<Encoding>((json) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)])),
  fc.nat().map<Encoding>((n) => (json) => json.slice(0, n % (json.length + 1))),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map<Encoding>((flips) => (json) => {
    const bytes = Buffer.from(json);
    for (const [at, byte] of flips) if (bytes.length > 0) bytes[at % bytes.length] = byte;
    return bytes;
  }),
  fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]).chain((bad) =>
    fc.nat().map<Encoding>((n) => (json) => {
      // Invalid UTF-8 inside a string value, where a parser that decodes loosely would accept it.
      const at = json.indexOf('"', n % Math.max(1, json.length));
      const bytes = Buffer.from(json);
      if (at < 0) return Buffer.concat([bytes, Buffer.from(bad)]);
      return Buffer.concat([bytes.subarray(0, at + 1), Buffer.from(bad), bytes.subarray(at + 1)]);
    }),
  ),
);

const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,200}$/);
const headers = fc.record({
  contentType: fc.oneof(
    { weight: 7, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON') },
    { weight: 3, arbitrary: fc.option(fc.constantFrom(
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/vnd.gitlab+json',
      '*/*',
      ';;;',
    ), { nil: undefined }) },
  ),
  token: fc.oneof({ weight: 6, arbitrary: fc.constant(SECRET) }, { weight: 1, arbitrary: headerValue }),
  extra: fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
  signed: fc.option(fc.record({ id: headerValue, timestamp: fc.oneof(headerValue, fc.constant(String(Math.floor(Date.now() / 1000)))), signature: headerValue }), { nil: undefined, freq: 8 }),
});

const delivery = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom('pipeline', 'note').chain((kind) =>
      fc.record({
        kind: fc.constant(kind),
        breaks: fc.array(breaking(kind), { minLength: 1, maxLength: 3 }),
        noise: fc.array(noise, { maxLength: 3 }),
        encoding,
        headers,
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('random'),
      value: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.uint8Array({ maxLength: 2000 })),
      encoding,
      headers,
    }),
  },
);

type Delivery = {
  kind: string;
  breaks?: Mutation[];
  noise?: Mutation[];
  value?: unknown;
  encoding: Encoding;
  headers: { contentType: string | undefined; token: string; extra: Record<string, string>; signed: { id: string; timestamp: string; signature: string } | undefined };
};

function build(d: Delivery): { payload: Buffer | string; headers: Record<string, string> } {
  let payload: Buffer | string;
  if (d.kind === 'random') {
    payload = d.value instanceof Uint8Array ? Buffer.from(d.value) : d.encoding(JSON.stringify(d.value) ?? '');
  } else {
    const hook = BASES[d.kind]!();
    // Noise first: a later breaking mutation must not be undone by it.
    for (const mutate of d.noise ?? []) mutate(hook);
    for (const mutate of d.breaks ?? []) mutate(hook);
    payload = d.encoding(JSON.stringify(hook));
  }
  const headers: Record<string, string> = { ...d.headers.extra, 'x-gitlab-token': d.headers.token };
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  delete headers.host;
  if (d.headers.contentType !== undefined) headers['content-type'] = d.headers.contentType;
  else delete headers['content-type'];
  if (d.headers.signed) {
    headers['webhook-id'] = d.headers.signed.id;
    headers['webhook-timestamp'] = d.headers.signed.timestamp;
    headers['webhook-signature'] = d.headers.signed.signature;
  }
  return { payload, headers };
}

describe('POST /webhooks/gitlab under fuzzing', () => {
  it(`survives ${COUNT} malformed deliveries: no 5xx, no job`, async () => {
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(delivery, async (d) => {
        const request = build(d as Delivery);
        const response = await app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: request.headers, payload: request.payload });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        expect(response.statusCode).toBeLessThan(500);
        expect(response.statusCode).not.toBe(202);
      }),
      { numRuns: COUNT, seed: SEED, endOnFailure: true },
    );
    const body = JSON.stringify(fixture('pipeline-success'));
    const id = `msg_${randomUUID()}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const valid = await app.inject({
      method: 'POST',
      url: '/webhooks/gitlab',
      headers: {
        'content-type': 'application/json',
        'x-gitlab-token': SECRET,
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': signWebhook(signingKey(SIGNING_SECRET), id, timestamp, Buffer.from(body)),
      },
      payload: body,
    });

    console.info(`webhook fuzz: ${COUNT} deliveries, seed ${SEED}, answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(COUNT);
    expect(valid.statusCode).toBe(202);
    expect(await jobCount()).toBe(1);
  }, 600_000);
});
