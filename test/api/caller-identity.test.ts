import { describe, expect, it } from 'vitest';
import { createCallerIdentity } from '../../src/api/caller-identity.js';
import { CanarybotError } from '../../src/core/errors.js';
import type { GitLabUser } from '../../src/gitlab/gitlab-api.js';

const ALICE: GitLabUser = { id: 8, username: 'alice', name: 'Alice', state: 'active' };

function lookupOf(users: Record<string, GitLabUser | null | Error>) {
  const asked: string[] = [];
  const lookup = async (token: string): Promise<GitLabUser | null> => {
    asked.push(token);
    const answer = users[token];
    if (answer instanceof Error) throw answer;
    return answer ?? null;
  };
  return { lookup, asked };
}

describe('createCallerIdentity', () => {
  it('asks GitLab once per token within the cache time, then again after it', async () => {
    let now = 1_000;
    const { lookup, asked } = lookupOf({ 'glpat-a': ALICE });
    const identity = createCallerIdentity({ lookup, ttlMs: 60_000, now: () => now });

    const first = await identity.identify('glpat-a');
    now += 59_000;
    const cached = await identity.identify('glpat-a');
    now += 2_000;
    const again = await identity.identify('glpat-a');

    expect([first, cached, again]).toEqual([ALICE, ALICE, ALICE].map(({ id, username, name }) => ({ id, username, name })));
    expect(asked).toEqual(['glpat-a', 'glpat-a']);
  });

  it('remembers a refused token only briefly, so a new token of the same text works soon', async () => {
    let now = 0;
    const users: Record<string, GitLabUser | null> = { 'glpat-new': null };
    const { lookup, asked } = lookupOf(users);
    const identity = createCallerIdentity({ lookup, ttlMs: 60_000, refusedTtlMs: 5_000, now: () => now });

    expect(await identity.identify('glpat-new')).toBeNull();
    expect(await identity.identify('glpat-new')).toBeNull();
    users['glpat-new'] = ALICE;
    now += 5_001;

    expect(await identity.identify('glpat-new')).toMatchObject({ username: 'alice' });
    expect(asked).toHaveLength(2);
  });

  it('asks once for concurrent requests with the same token', async () => {
    const { lookup, asked } = lookupOf({ t: ALICE });
    const identity = createCallerIdentity({ lookup });

    const callers = await Promise.all([identity.identify('t'), identity.identify('t'), identity.identify('t')]);

    expect(callers.map((c) => c?.username)).toEqual(['alice', 'alice', 'alice']);
    expect(asked).toEqual(['t']);
  });

  it('does not remember an outage: the error propagates and the next request asks again', async () => {
    const users: Record<string, GitLabUser | Error> = { t: new CanarybotError('GITLAB_UNAVAILABLE', 'GitLab GET /user answered 503') };
    const { lookup, asked } = lookupOf(users);
    const identity = createCallerIdentity({ lookup });

    await expect(identity.identify('t')).rejects.toMatchObject({ code: 'GITLAB_UNAVAILABLE' });
    users.t = ALICE;

    expect(await identity.identify('t')).toMatchObject({ username: 'alice' });
    expect(asked).toEqual(['t', 't']);
  });

  it('never confuses two tokens, and keeps at most maxEntries (the oldest go first)', async () => {
    const bob: GitLabUser = { id: 9, username: 'bob', name: 'Bob', state: 'active' };
    const { lookup, asked } = lookupOf({ a: ALICE, b: bob, c: null });
    const identity = createCallerIdentity({ lookup, maxEntries: 2 });

    expect((await identity.identify('a'))?.username).toBe('alice');
    expect((await identity.identify('b'))?.username).toBe('bob');
    expect(await identity.identify('c')).toBeNull();
    expect((await identity.identify('b'))?.username).toBe('bob');
    expect((await identity.identify('a'))?.username).toBe('alice');

    expect(asked).toEqual(['a', 'b', 'c', 'a']);
  });

  it('answers null for an empty token without asking', async () => {
    const { lookup, asked } = lookupOf({});

    expect(await createCallerIdentity({ lookup }).identify('')).toBeNull();
    expect(asked).toEqual([]);
  });
});
