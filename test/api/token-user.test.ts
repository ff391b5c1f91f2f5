// Who a caller's token belongs to, asked of the GitLab API test server over HTTP with the real
// @gitbeaker/rest client: personal, project and OAuth tokens as GitLab accepts them, and every way
// GitLab says no.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CanarybotError } from '../../src/core/errors.js';
import { gitlabUserOfToken } from '../../src/gitlab/client.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';

let gitlab: GitLabApiServer;

beforeAll(async () => {
  gitlab = await startGitLabApiServer();
  gitlab.seed({
    users: [
      { id: 8, username: 'alice', name: 'Alice' },
      { id: 9, username: 'project_1_bot_3f2a', name: 'deploy bot' },
      { id: 10, username: 'mallory', name: 'Mallory', state: 'blocked' },
    ],
    tokens: [
      { token: 'glpat-alice', userId: 8, kind: 'personal' },
      { token: 'glpat-project', userId: 9, kind: 'project', scopes: ['read_api'] },
      { token: 'oauth-alice', userId: 8, kind: 'oauth', scopes: ['read_user', 'openid'] },
      { token: 'glpat-revoked', userId: 8, revoked: true },
      { token: 'glpat-registry-only', userId: 8, scopes: ['read_registry'] },
      { token: 'glpat-mallory', userId: 10 },
    ],
  });
});

afterAll(async () => {
  await gitlab.close();
});

const whoIs = (token: string) => gitlabUserOfToken({ url: gitlab.url }, token);

describe('gitlabUserOfToken', () => {
  it.each([
    ['a personal access token', 'glpat-alice', 'alice'],
    ['a project access token (its bot user)', 'glpat-project', 'project_1_bot_3f2a'],
    ['an OAuth access token (which GitLab takes only as a Bearer token)', 'oauth-alice', 'alice'],
  ])('answers the user of %s', async (_what, token, username) => {
    const user = await whoIs(token);

    expect(user?.username).toBe(username);
  });

  it.each([
    ['an unknown token', 'glpat-nobody'],
    ['a revoked token', 'glpat-revoked'],
    ['a token without a scope that reads the user', 'glpat-registry-only'],
    ["a blocked user's token", 'glpat-mallory'],
  ])('answers null for %s', async (_what, token) => {
    expect(await whoIs(token)).toBeNull();
  });

  it('throws GITLAB_UNAVAILABLE while GitLab fails, never a user or a null', async () => {
    gitlab.fail({ status: 503, match: /GET \/user/ });
    const error = await whoIs('glpat-alice').catch((e: unknown) => e);
    gitlab.heal();

    expect(error).toBeInstanceOf(CanarybotError);
    expect((error as CanarybotError).code).toBe('GITLAB_UNAVAILABLE');
    expect(String((error as Error).message)).not.toContain('glpat-alice');
  });
});
