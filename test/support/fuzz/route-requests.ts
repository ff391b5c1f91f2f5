// One arbitrary per POST route of the server, keyed by `POST <url pattern>` as Fastify registers it.
// Each builds its request when it is sent (signatures and timestamps are fresh), mostly with the right
// credentials so the body gets read, from the route's documented payload broken at random, random
// JSON, deep JSON, or bytes in the wrong encoding.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { slackSignature } from '../../../src/chatops/verify-slack-signature.js';
import { anyJson, contentType, deepJson, encoding, extraHeaders, headerValue, hugeString, type Encoding } from './envelope.js';
import { gitlabDelivery, type GitLabSecrets } from './gitlab-deliveries.js';
import { mutationsOf, type Mutation, type Payload } from './json-mutations.js';

export interface FuzzContext {
  gitlab: GitLabSecrets;
  alertSecret: string;
  slackSecret: string;
  mattermostToken: string;
  /** The chat test server: where response_urls point, and MATTERMOST_URL. */
  chatUrl: string;
  /** A GitLab token of a Developer, for /api. */
  apiToken: string;
}

export interface FuzzRequest {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

type RequestArbitrary = (context: FuzzContext) => fc.Arbitrary<() => FuzzRequest>;

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const json = (path: string): Payload => JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8')) as Payload;

/** A JSON body: the sample broken at random (or untouched), random JSON, or deep JSON; then encoded. */
function jsonBody(sample: () => Payload, untouched = 1): fc.Arbitrary<() => Buffer> {
  const mutated = fc.tuple(fc.oneof({ weight: untouched, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 6, arbitrary: mutationsOf(sample()) }), encoding).map(
    ([mutations, encode]: [Mutation[], Encoding]) => () => {
      const payload = sample();
      for (const mutate of mutations) mutate(payload);
      return encode(JSON.stringify(payload));
    },
  );
  return fc.oneof(
    { weight: 8, arbitrary: mutated },
    { weight: 1, arbitrary: fc.tuple(anyJson, encoding).map(([value, encode]) => () => encode(JSON.stringify(value) ?? '')) },
    { weight: 1, arbitrary: deepJson.map((text) => () => Buffer.from(text)) },
  );
}

const bearer = (secret: string): fc.Arbitrary<string | null> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${secret}`) },
    { weight: 1, arbitrary: headerValue.map((value) => `Bearer ${value}`) },
    { weight: 1, arbitrary: fc.constantFrom(`Basic ${Buffer.from(`x:${secret}`).toString('base64')}`, `bearer  ${secret} `, secret, 'Bearer') },
    { weight: 1, arbitrary: fc.constant(null) },
  );

function headersOf(extra: Record<string, string>, type: string | undefined, more: Record<string, string | null>): Record<string, string> {
  const headers: Record<string, string> = { ...extra };
  if (type !== undefined) headers['content-type'] = type;
  for (const [name, value] of Object.entries(more)) if (value !== null) headers[name] = value;
  return headers;
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];
const FORM_TYPES = ['application/x-www-form-urlencoded'];

/** What a chat user types after `/canary`: commands the bot knows, mentions, noise. */
const slashText = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('approve reviews', 'abort reviews', 'promote reviews now', 'pause ratings', 'resume bookinfo/reviews', 'retry reviews', 'status', 'status reviews', 'list', 'help', '', 'train start shop cart=1', 'override-freeze reviews hotfix', 'approve', '@all', '<!channel> abort reviews', 'abort @here') },
  { weight: 3, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: hugeString.map((text) => text.slice(0, 20_000)) },
);

function responseUrl(context: FuzzContext): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.nat(1000).map((n) => `${context.chatUrl}/response/${n}`) },
    { weight: 1, arbitrary: fc.constantFrom('http://127.0.0.1:1/closed', 'javascript:alert(1)', 'not a url', 'file:///etc/passwd', 'https://elsewhere.invalid/hook') },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Slash command form fields (Slack's and Mattermost's overlap), some dropped, some added, some of a strange size. */
function slashForm(context: FuzzContext, users: string[]): fc.Arbitrary<Record<string, string>> {
  return fc
    .record({
      user_id: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...users) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }),
      user_name: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
      text: slashText,
      response_url: responseUrl(context),
      command: fc.option(fc.constantFrom('/canary', '/other'), { nil: undefined }),
      channel_id: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
      extra: fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string({ maxLength: 30 }), hugeString.map((s) => s.slice(0, 50_000))), { maxKeys: 2 }),
    })
    .map(({ extra, ...fields }) => {
      const form: Record<string, string> = { ...extra };
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) form[key] = value;
      return form;
    });
}

const formText = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

/** Bodies a slash command route reads: its form, its form as JSON, or something else entirely. */
function slashBody(form: fc.Arbitrary<Record<string, string>>): fc.Arbitrary<{ type: 'form' | 'json' | 'other'; encode: () => Buffer }> {
  return fc.oneof(
    { weight: 7, arbitrary: fc.tuple(form, encoding).map(([fields, encode]) => ({ type: 'form' as const, encode: () => encode(formText(fields)) })) },
    { weight: 1, arbitrary: fc.tuple(form, encoding).map(([fields, encode]) => ({ type: 'json' as const, encode: () => encode(JSON.stringify(fields)) })) },
    { weight: 1, arbitrary: fc.oneof(deepJson.map((text) => () => Buffer.from(text)), fc.uint8Array({ maxLength: 2000 }).map((bytes) => () => Buffer.from(bytes))).map((encode) => ({ type: 'other' as const, encode })) },
  );
}

const slack: RequestArbitrary = (context) =>
  fc
    .record({
      body: slashBody(slashForm(context, ['U1', 'U9'])),
      type: contentType(FORM_TYPES),
      extra: extraHeaders,
      signature: fc.oneof(
        { weight: 6, arbitrary: fc.constant<'valid' | 'stale' | 'missing' | string>('valid') },
        { weight: 1, arbitrary: fc.constant('stale') },
        { weight: 1, arbitrary: fc.constant('missing') },
        { weight: 1, arbitrary: headerValue.map((value) => `v0=${value}`) },
      ),
    })
    .map(({ body, type, extra, signature }) => () => {
      const bytes = body.encode();
      const now = Math.floor(Date.now() / 1000);
      const timestamp = String(signature === 'stale' ? now - 3600 : now);
      const signed = signature === 'valid' || signature === 'stale' ? slackSignature(context.slackSecret, timestamp, bytes) : signature === 'missing' ? null : signature;
      const contentTypeOf = body.type === 'json' ? 'application/json' : type;
      return { path: '/chatops/slack', body: bytes, headers: headersOf(extra, contentTypeOf, { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signed }) };
    });

/** Mattermost sends the token as `Authorization: Token …` and as the form's `token` field. */
interface MattermostToken {
  header?: string;
  field?: string;
}

const mattermost: RequestArbitrary = (context) =>
  fc
    .record({
      body: slashBody(slashForm(context, ['mm-root', 'mm-stranger'])),
      type: contentType(FORM_TYPES),
      extra: extraHeaders,
      token: fc.oneof(
        { weight: 3, arbitrary: fc.constant<MattermostToken>({ header: `Token ${context.mattermostToken}` }) },
        { weight: 3, arbitrary: fc.constant<MattermostToken>({ field: context.mattermostToken }) },
        { weight: 1, arbitrary: headerValue.map<MattermostToken>((value) => ({ header: `Token ${value}` })) },
        { weight: 1, arbitrary: fc.constant<MattermostToken>({}) },
      ),
    })
    .map(({ body, type, extra, token }) => () => {
      let bytes = body.encode();
      // The token field travels inside the form, where Mattermost puts it.
      if (token.field !== undefined && body.type === 'form') bytes = Buffer.concat([bytes, Buffer.from(`&token=${encodeURIComponent(token.field)}`)]);
      const contentTypeOf = body.type === 'json' ? 'application/json' : type;
      return { path: '/chatops/mattermost', body: bytes, headers: headersOf(extra, contentTypeOf, { authorization: token.header ?? null }) };
    });

const alertmanager: RequestArbitrary = (context) =>
  fc
    .record({ body: jsonBody(() => json('alertmanager/webhook-firing.json')), type: contentType(JSON_TYPES), extra: extraHeaders, auth: bearer(context.alertSecret) })
    .map(({ body, type, extra, auth }) => () => ({ path: '/webhooks/alertmanager', body: body(), headers: headersOf(extra, type, { authorization: auth }) }));

/** Names a sender may invent, prototype keys and traversal among them. */
const presetName = fc.oneof(
  { weight: 6, arbitrary: fc.constant('bkmonitor') },
  { weight: 2, arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString', '..%2F..%2Fmetrics', '%00', 'BKMONITOR', 'bkmonitor%20') },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,40}$/) },
);

const alertPresets: RequestArbitrary = (context) =>
  fc
    .record({
      preset: presetName,
      body: jsonBody(() => json('bkmonitor/anomaly-notice.json')),
      type: contentType(JSON_TYPES),
      extra: extraHeaders,
      auth: fc.oneof({ weight: 3, arbitrary: bearer(context.alertSecret).map((header) => ({ header, query: null as string | null })) }, { weight: 1, arbitrary: fc.oneof(fc.constant(context.alertSecret), headerValue).map((query) => ({ header: null, query })) }),
    })
    .map(({ preset, body, type, extra, auth }) => () => ({
      path: `/webhooks/alerts/${preset}${auth.query !== null ? `?token=${encodeURIComponent(auth.query)}` : ''}`,
      body: body(),
      headers: headersOf(extra, type, { authorization: auth.header }),
    }));

const authSession: RequestArbitrary = () =>
  fc
    .record({
      handle: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/), anyJson, hugeString),
      asForm: fc.boolean(),
      type: contentType(JSON_TYPES),
      extra: extraHeaders,
      encode: encoding,
    })
    .map(({ handle, asForm, type, extra, encode }) => () => ({
      path: '/auth/session',
      body: encode(asForm ? formText({ handle: String(handle) }) : JSON.stringify({ handle })),
      headers: headersOf(extra, asForm ? 'application/x-www-form-urlencoded' : type, {}),
    }));

const authRefresh: RequestArbitrary = () =>
  fc
    .record({
      refreshToken: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{16,128}$/), fc.string({ maxLength: 40 }), anyJson, hugeString),
      asForm: fc.boolean(),
      type: contentType(JSON_TYPES),
      extra: extraHeaders,
      encode: encoding,
    })
    .map(({ refreshToken, asForm, type, extra, encode }) => () => ({
      path: '/auth/refresh',
      body: encode(asForm ? formText({ refreshToken: String(refreshToken) }) : JSON.stringify({ refreshToken })),
      headers: headersOf(extra, asForm ? 'application/x-www-form-urlencoded' : type, {}),
    }));

const releaseId = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('reviews-mxbjxjmm-c30e72', 'reviews', '0', '%2e%2e', '..%2F..%2Fmetrics', '__proto__', '%00') },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,80}$/) },
);

const commandsBody = jsonBody(() => ({ command: 'approve', reason: 'looks good', step: 1 }), 2);

const apiCommands: RequestArbitrary = (context) =>
  fc
    .record({
      id: releaseId,
      body: commandsBody,
      type: contentType(JSON_TYPES),
      extra: extraHeaders,
      auth: fc.oneof(
        { weight: 5, arbitrary: fc.constant<string | null>(`Bearer ${context.apiToken}`) },
        { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/).map((token) => `Bearer ${token}`) },
        { weight: 1, arbitrary: fc.constantFrom(null, 'Bearer', `Basic ${Buffer.from(`x:${context.apiToken}`).toString('base64')}`) },
      ),
    })
    .map(({ id, body, type, extra, auth }) => () => ({ path: `/api/releases/${id}/commands`, body: body(), headers: headersOf(extra, type, { authorization: auth }) }));

const trainCommandsBody = jsonBody(() => ({ command: 'promote', reason: 'ship the train' }), 2);

const trainCommands: RequestArbitrary = (context) =>
  fc
    .record({
      id: releaseId,
      body: trainCommandsBody,
      type: contentType(JSON_TYPES),
      extra: extraHeaders,
      auth: fc.oneof(
        { weight: 5, arbitrary: fc.constant<string | null>(`Bearer ${context.apiToken}`) },
        { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/).map((token) => `Bearer ${token}`) },
        { weight: 1, arbitrary: fc.constantFrom(null, 'Bearer') },
      ),
    })
    .map(({ id, body, type, extra, auth }) => () => ({ path: `/api/trains/${id}/commands`, body: body(), headers: headersOf(extra, type, { authorization: auth }) }));

const gitlab: RequestArbitrary = (context) => gitlabDelivery(context.gitlab).map((build) => () => ({ path: '/webhooks/gitlab', ...build() }));

/** Every POST route of the server. A route missing here fails the fuzz test. */
export const ROUTE_REQUESTS: Record<string, RequestArbitrary> = {
  'POST /webhooks/gitlab': gitlab,
  'POST /webhooks/alertmanager': alertmanager,
  'POST /webhooks/alerts/:preset': alertPresets,
  'POST /chatops/slack': slack,
  'POST /chatops/mattermost': mattermost,
  'POST /auth/session': authSession,
  'POST /auth/refresh': authRefresh,
  'POST /api/releases/:id/commands': apiCommands,
  'POST /api/trains/:id/commands': trainCommands,
};
