// The guard of /api/* and /metrics on the HTTP app: who gets in with which token, what the 401 and
// 503 answers say, API_READ_ANONYMOUS and METRICS_TOKEN, and that no token reaches the logs.

import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiAuth, GITLAB_DOWN, INVALID_TOKEN, MISSING_TOKEN, NEEDS_USER, requireCaller } from '../../src/api/api-auth.js';
import { createCallerIdentity } from '../../src/api/caller-identity.js';
import { CanarybotError } from '../../src/core/errors.js';
import type { GitLabUser } from '../../src/gitlab/gitlab-api.js';
import { createMetrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { metricsRoute } from '../../src/server/routes/metrics.js';

const ALICE: GitLabUser = { id: 8, username: 'alice', name: 'Alice', state: 'active' };
const TOKEN = 'glpat-alice-0123456789';
let app: FastifyInstance | undefined;
let gitlabDown = false;
const logLines: string[] = [];

afterEach(async () => {
  await app?.close();
  app = undefined;
  gitlabDown = false;
  logLines.length = 0;
});

async function start(options: { readAnonymous?: boolean; metricsToken?: string; cookie?: boolean } = {}): Promise<FastifyInstance> {
  const identity = createCallerIdentity({
    lookup: async (token) => {
      if (gitlabDown) throw new CanarybotError('GITLAB_UNAVAILABLE', 'GitLab GET /user failed (TypeError)');
      return token === TOKEN ? ALICE : null;
    },
  });
  const auth = createApiAuth({
    identity,
    readAnonymous: options.readAnonymous ?? false,
    ...(options.cookie ? { tokenSources: [(request) => /(?:^|;\s*)session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1] ?? null] } : {}),
  });
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) }));
  app = await buildApp({
    logger,
    routes: [
      auth.routes,
      metricsRoute({ metrics: createMetrics(), ...(options.metricsToken ? { token: options.metricsToken } : {}) }),
      (a) => {
        a.get('/api/releases', async (request) => ({ caller: request.caller ?? null }));
        a.get('/api/me', async (request, reply) => {
          const caller = requireCaller(request, reply);
          return caller ? { user: caller } : reply;
        });
        a.post('/api/releases/:id/commands', async (request) => ({ by: request.caller?.username }));
        a.get('/events', async (request, reply) => {
          const caller = await auth.authenticate(request, reply, 'read');
          return caller === undefined ? reply : { caller };
        });
      },
    ],
  });
  return app;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('/api/* with a GitLab token', () => {
  it('lets the token of a GitLab user in as that user, reads and commands alike', async () => {
    const a = await start();

    const read = await a.inject({ method: 'GET', url: '/api/releases', headers: bearer(TOKEN) });
    const act = await a.inject({ method: 'POST', url: '/api/releases/r1/commands', headers: bearer(TOKEN), payload: {} });

    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({ caller: { id: 8, username: 'alice', name: 'Alice' } });
    expect(act.json()).toEqual({ by: 'alice' });
  });

  it.each([
    ['no Authorization header', {}, MISSING_TOKEN],
    ['a Basic header', { authorization: 'Basic YWxpY2U6c2VjcmV0' }, MISSING_TOKEN],
    ['a token GitLab does not accept', bearer('glpat-wrong'), INVALID_TOKEN],
  ])('answers 401 with one sentence for %s', async (_what, headers, sentence) => {
    const a = await start();

    for (const [method, url] of [['GET', '/api/releases'], ['POST', '/api/releases/r1/commands'], ['GET', '/api/me']] as const) {
      const response = await a.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: sentence });
      expect(response.headers['www-authenticate']).toBe('Bearer realm="canarybot"');
    }
  });

  it('answers 503 (not 401) while GitLab cannot be asked, and the token is in no log line', async () => {
    const a = await start();
    gitlabDown = true;

    const response = await a.inject({ method: 'GET', url: '/api/releases', headers: bearer(TOKEN) });

    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: GITLAB_DOWN });
    expect(logLines.join('\n')).toContain('could not identify an API caller');
    expect(logLines.join('\n')).not.toContain(TOKEN);
  });

  it('leaves routes outside /api/ alone, and authenticate() guards them on request', async () => {
    const a = await start();

    const health = await a.inject({ method: 'GET', url: '/healthz' });
    const eventsAnonymous = await a.inject({ method: 'GET', url: '/events' });
    const events = await a.inject({ method: 'GET', url: '/events', headers: bearer(TOKEN) });

    expect(health.statusCode).toBe(200);
    expect(eventsAnonymous.statusCode).toBe(401);
    expect(events.json()).toEqual({ caller: { id: 8, username: 'alice', name: 'Alice' } });
  });

  it('takes the token from another source when one is configured (a session cookie)', async () => {
    const a = await start({ cookie: true });

    const response = await a.inject({ method: 'GET', url: '/api/releases', headers: { cookie: `theme=dark; session=${TOKEN}` } });

    expect(response.json()).toEqual({ caller: { id: 8, username: 'alice', name: 'Alice' } });
  });
});

describe('API_READ_ANONYMOUS', () => {
  it('lets reads in without a token, never commands, and /api/me still needs a user', async () => {
    const a = await start({ readAnonymous: true });

    const read = await a.inject({ method: 'GET', url: '/api/releases' });
    const act = await a.inject({ method: 'POST', url: '/api/releases/r1/commands', payload: {} });
    const me = await a.inject({ method: 'GET', url: '/api/me' });

    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({ caller: null });
    expect(act.statusCode).toBe(401);
    expect(act.json()).toEqual({ error: MISSING_TOKEN });
    expect(me.statusCode).toBe(401);
    expect(me.json()).toEqual({ error: NEEDS_USER });
  });

  it('still refuses a wrong token instead of reading anonymously', async () => {
    const a = await start({ readAnonymous: true });

    const response = await a.inject({ method: 'GET', url: '/api/releases', headers: bearer('glpat-wrong') });

    expect(response.statusCode).toBe(401);
  });
});

describe('METRICS_TOKEN', () => {
  it('is open without it', async () => {
    const a = await start();

    expect((await a.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });

  it('needs the token when set: 401 without or with another, 200 with it', async () => {
    const a = await start({ metricsToken: 'scrape-secret' });

    const none = await a.inject({ method: 'GET', url: '/metrics' });
    const wrong = await a.inject({ method: 'GET', url: '/metrics', headers: bearer('scrape-secreT') });
    const right = await a.inject({ method: 'GET', url: '/metrics', headers: bearer('scrape-secret') });

    expect(none.statusCode).toBe(401);
    expect(none.json().error).toMatch(/^The metrics need METRICS_TOKEN/);
    expect(wrong.statusCode).toBe(401);
    expect(right.statusCode).toBe(200);
    expect(right.body).toContain('canarybot_releases_total');
  });
});
