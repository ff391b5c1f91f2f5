// GitLab deliveries for POST /webhooks/gitlab: GitLab's documented Pipeline and Note Hooks, broken
// on a field the route reads (missing, wrong type, impossible value), plus noise elsewhere (huge
// strings, random keys), re-encoded badly and sent with random headers and content types, with the
// right or a wrong token and a valid, wrong or missing signature. None may be enqueued.

import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { signingKey, signWebhook } from '../../../src/gitlab/verify-webhook-signature.js';
import { fixture, noteHook } from '../../gitlab/helpers.js';
import { contentType, encoding, extraHeaders, headerValue, hugeString, type Encoding } from './envelope.js';
import type { Mutation, Payload } from './json-mutations.js';

/** Payloads the route would enqueue as they are. */
const BASES: Record<string, () => Payload> = {
  pipeline: () => fixture('pipeline-success'),
  note: () => noteHook('/canary approve'),
};

type FieldType = 'int' | 'string' | 'sha' | 'object';

/** Fields the route reads, each with the JSON type it must have; breaking one must stop the delivery. */
const REQUIRED: Record<string, { path: string[]; type: FieldType }[]> = {
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

/** A value that is never of the given type. */
function notOfType(type: FieldType): fc.Arbitrary<unknown> {
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
      notOfType(field.type).map<Mutation>((value) => (p) => setPath(p, field.path, value)),
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

export interface GitLabSecrets {
  token: string;
  /** GITLAB_WEBHOOK_SIGNING_SECRET (`whsec_…`). */
  signingSecret: string;
}

type Signature = 'valid' | 'missing' | { id: string; timestamp: string; signature: string };

interface Delivery {
  payload: () => Buffer;
  contentType: string | undefined;
  token: string | null;
  extra: Record<string, string>;
  event: string | undefined;
  signature: Signature;
}

export interface GitLabRequest {
  headers: Record<string, string>;
  body: Buffer;
}

/** A delivery the route must refuse (never 202): a required field is always broken. */
export function gitlabDelivery(secrets: GitLabSecrets): fc.Arbitrary<() => GitLabRequest> {
  const broken = fc.constantFrom('pipeline', 'note').chain((kind) =>
    fc.tuple(fc.array(breaking(kind), { minLength: 1, maxLength: 3 }), fc.array(noise, { maxLength: 3 }), encoding).map(([breaks, noises, encode]: [Mutation[], Mutation[], Encoding]) => () => {
      const hook = BASES[kind]!();
      // Noise first: a later breaking mutation must not be undone by it.
      for (const mutate of noises) mutate(hook);
      for (const mutate of breaks) mutate(hook);
      return encode(JSON.stringify(hook));
    }),
  );
  const random = fc.tuple(fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.uint8Array({ maxLength: 2000 })), encoding).map(([value, encode]) => () =>
    value instanceof Uint8Array ? Buffer.from(value) : encode(JSON.stringify(value) ?? ''),
  );
  const delivery: fc.Arbitrary<Delivery> = fc.record({
    payload: fc.oneof({ weight: 8, arbitrary: broken }, { weight: 2, arbitrary: random }),
    contentType: contentType(['application/json', 'application/json; charset=utf-8', 'Application/JSON']),
    token: fc.oneof({ weight: 6, arbitrary: fc.constant(secrets.token) }, { weight: 1, arbitrary: headerValue }, { weight: 1, arbitrary: fc.constant(null) }),
    extra: extraHeaders,
    event: fc.option(fc.constantFrom('Pipeline Hook', 'Note Hook', 'Push Hook', 'System Hook'), { nil: undefined }),
    signature: fc.oneof(
      { weight: 6, arbitrary: fc.constant<Signature>('valid') },
      { weight: 1, arbitrary: fc.constant<Signature>('missing') },
      { weight: 2, arbitrary: fc.record({ id: headerValue, timestamp: fc.oneof(headerValue, fc.constant(String(Math.floor(Date.now() / 1000)))), signature: headerValue }) },
    ),
  });
  return delivery.map((d) => () => {
    const body = d.payload();
    const headers: Record<string, string> = { ...d.extra };
    if (d.token !== null) headers['x-gitlab-token'] = d.token;
    if (d.event !== undefined) headers['x-gitlab-event'] = d.event;
    if (d.contentType !== undefined) headers['content-type'] = d.contentType;
    if (d.signature === 'valid') {
      const id = `msg_${randomUUID()}`;
      const timestamp = String(Math.floor(Date.now() / 1000));
      Object.assign(headers, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signWebhook(signingKey(secrets.signingSecret), id, timestamp, body) });
    } else if (d.signature !== 'missing') {
      Object.assign(headers, { 'webhook-id': d.signature.id, 'webhook-timestamp': d.signature.timestamp, 'webhook-signature': d.signature.signature });
    }
    return { headers, body };
  });
}

/** A delivery the route accepts (202): the documented pipeline hook, signed. */
export function validGitLabDelivery(secrets: GitLabSecrets): GitLabRequest {
  const body = Buffer.from(JSON.stringify(fixture('pipeline-success')));
  const id = `msg_${randomUUID()}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-gitlab-token': secrets.token,
      'x-gitlab-event': 'Pipeline Hook',
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': signWebhook(signingKey(secrets.signingSecret), id, timestamp, body),
    },
  };
}
