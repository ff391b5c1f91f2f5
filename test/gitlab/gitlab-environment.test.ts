// The deployment environment's tier (issue 17): the reporter through the real client, the GitLab
// API test server and real Redis. A decided tier is made true before the first deployment; without
// one the bot makes no environment calls at all.

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EnvironmentSpec } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { createGitLabWriteback, type GitLabWriteback } from '../../src/gitlab/gitlab-writeback.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';
import { SHA, T0, definition, release } from './release-fixture.js';

const ENV_GET = 'GET /projects/:id/environments';
const ENV_POST = 'POST /projects/:id/environments';
const ENV_PUT = 'PUT /projects/:id/environments/:environment_id';
const DEPLOY_POST = 'POST /projects/:id/deployments';

let server: GitLabApiServer;
let redis: Redis;
const open: GitLabWriteback[] = [];
let seq = 0;

beforeAll(async () => {
  server = await startGitLabApiServer();
  server.seed({ users: [{ id: 8, username: 'bob' }], projects: [{ id: 42, path: 'bookinfo/reviews' }] });
  redis = new Redis(testRedis().url);
});

afterEach(async () => {
  server.heal();
  await Promise.all(open.splice(0).map((w) => w.close()));
  server.assertNoUnexpectedCalls();
  server.clearCalls();
});

afterAll(async () => {
  redis.disconnect();
  await server.close();
});

function writeback(): GitLabWriteback {
  const wb = createGitLabWriteback({
    api: createGitLabClient({ url: server.url, token: server.token }),
    redis,
    prefix: testRedis().prefix,
    outbox: { pollMs: 50, backoffBaseMs: 50, backoffMaxMs: 300 },
  });
  wb.start();
  open.push(wb);
  return wb;
}

/** One release (no MR) through deploying → progressing → succeeded, in `namespace`, with `environment`. */
function stages(namespace: string, environment?: EnvironmentSpec): Release[] {
  seq += 1;
  const base = release({
    id: `rel-env-${seq}`,
    sha: `${SHA.slice(0, 36)}${String(seq).padStart(4, '0')}`,
    mr: null,
    namespace,
    definition: definition(environment ? { environment } : {}),
  });
  return ([
    { state: 'deploying' },
    { state: 'progressing', stepIndex: 0, weights: { stable: 95, canary: 5 } },
    { state: 'succeeded', stepIndex: 5, weights: { stable: 100, canary: 0 }, endedAt: T0 + 600_000 },
  ] as Partial<Release>[]).map((stage, i) => ({ ...base, ...stage, version: i + 1, updatedAt: T0 + i * 60_000 }));
}

async function runThrough(releases: Release[]): Promise<void> {
  const wb = writeback();
  for (const stage of releases) {
    await wb.reporter.report(stage, 'progress');
    await vi.waitFor(() => expect(server.deployments(42).find((d) => d.sha === stage.sha)?.status).toBe(stage.state === 'succeeded' ? 'success' : 'running'), {
      timeout: 10_000,
    });
  }
}

const environment = (name: string) => server.environments(42).find((e) => e.name === name);
const routes = () => server.calls.map((c) => c.route);

describe('GitLab environment tier', () => {
  it('creates the environment of a production namespace with tier production before the first deployment, once per release', async () => {
    await runThrough(stages('payments-prod'));

    expect(environment('default/payments-prod/reviews')?.tier).toBe('production');
    expect(server.callsTo(ENV_GET).map((c) => c.query.name)).toEqual(['default/payments-prod/reviews']);
    expect(server.callsTo(ENV_POST).map((c) => c.body)).toEqual([{ name: 'default/payments-prod/reviews', tier: 'production' }]);
    expect(routes().indexOf(ENV_POST)).toBeLessThan(routes().indexOf(DEPLOY_POST));
    expect(server.callsTo(ENV_PUT)).toEqual([]);
  });

  it('sets an explicit tier on an environment GitLab created with its own guess', async () => {
    // A first release without a tier: GitLab creates "shop-prod" on the deployment, guessing production.
    await runThrough(stages('bookinfo', { name: 'shop-prod' }));
    expect(environment('shop-prod')?.tier).toBe('production');
    expect(routes().filter((r) => r?.includes('/environments'))).toEqual([]);
    server.clearCalls();

    await runThrough(stages('bookinfo', { name: 'shop-prod', tier: 'staging' }));

    expect(environment('shop-prod')?.tier).toBe('staging');
    expect(server.callsTo(ENV_PUT).map((c) => c.body)).toEqual([{ tier: 'staging' }]);
    expect(server.callsTo(ENV_POST)).toEqual([]);
    expect(server.deployments(42).filter((d) => d.environment === 'shop-prod')).toHaveLength(2);
  });

  it('makes no environment call when no tier is decided, and leaves the tier to GitLab', async () => {
    await runThrough(stages('bookinfo'));

    expect(routes().filter((r) => r?.includes('/environments'))).toEqual([]);
    // GitLab's own guess from the name: "reviews" reads as a review app.
    expect(environment('default/bookinfo/reviews')?.tier).toBe('development');
  });

  it('does not fail the deployment when the environment calls fail: it retries, then writes both', async () => {
    server.fail({ status: 500, times: 3, match: /environments/ });

    await runThrough(stages('shop-live', { tier: 'production' }));

    expect(server.calls.filter((c) => c.faulted).length).toBe(3);
    expect(environment('default/shop-live/reviews')?.tier).toBe('production');
  });

  it('gives up on the tier (logged) when GitLab refuses it, and still writes the deployment', async () => {
    server.fail({ status: 403, match: /environments/ });

    await runThrough(stages('live', { name: 'refused-env' }));

    expect(server.calls.filter((c) => c.faulted).map((c) => `${c.method} ${c.path}`)).toEqual(['GET /projects/bookinfo/reviews/environments']);
    expect(server.deployments(42).find((d) => d.environment === 'refused-env')?.status).toBe('success');
  });
});
