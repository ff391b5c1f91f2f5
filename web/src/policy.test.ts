import { describe, expect, it } from 'vitest';
import { mergeMe, visibleButtons, type CommandPermission, type Me } from './policy.js';

const yes: CommandPermission = { allowed: true, applicable: true };
const notNow: CommandPermission = { allowed: true, applicable: false, reason: 'Nothing to approve.' };
const refused: CommandPermission = { allowed: false, applicable: true, reason: 'Refused by the approvals policy.' };

function me(username: string, state: string, commands: Me['releases'][number]['commands']): Me {
  return { user: { id: username.length, username, name: username }, releases: [{ id: 'r1', state, commands }] };
}

describe('visibleButtons', () => {
  it('shows Approve, Promote and Abort where the bot says allowed and applicable, in that order', () => {
    const maintainer = me('root', 'awaiting-approval', { abort: yes, promote: yes, approve: yes, pause: yes, retry: notNow });

    expect(visibleButtons(maintainer, { id: 'r1', state: 'awaiting-approval' })).toEqual(['approve', 'promote', 'abort']);
  });

  it('hides what the policy refuses or the state does not accept', () => {
    const developer = me('alice', 'awaiting-approval', { approve: refused, promote: refused, abort: refused });
    const early = me('root', 'progressing', { approve: notNow, promote: yes, abort: yes });

    expect(visibleButtons(developer, { id: 'r1', state: 'awaiting-approval' })).toEqual([]);
    expect(visibleButtons(early, { id: 'r1', state: 'progressing' })).toEqual(['promote', 'abort']);
  });

  it('shows Override freeze only while a freeze or deny window holds the release', () => {
    const maintainer = me('root', 'progressing', { promote: yes, abort: yes, 'override-freeze': yes });
    const developer = me('dev', 'progressing', { abort: yes, 'override-freeze': refused });
    const wait = (kind: string) => ({ kind, sentence: 'Held.', since: '2026-12-06T10:00:00.000Z', until: null, link: null });

    expect(visibleButtons(maintainer, { id: 'r1', state: 'progressing', wait: wait('freeze') })).toEqual(['promote', 'override-freeze', 'abort']);
    expect(visibleButtons(maintainer, { id: 'r1', state: 'progressing', wait: wait('window') })).toEqual(['promote', 'override-freeze', 'abort']);
    expect(visibleButtons(maintainer, { id: 'r1', state: 'progressing', wait: wait('sync') })).toEqual(['promote', 'abort']);
    expect(visibleButtons(maintainer, { id: 'r1', state: 'progressing', wait: null })).toEqual(['promote', 'abort']);
    expect(visibleButtons(developer, { id: 'r1', state: 'progressing', wait: wait('freeze') })).toEqual(['abort']);
  });

  it('shows nothing when signed out, for an unknown release, or from an answer about an older state', () => {
    const answer = me('root', 'progressing', { approve: yes, promote: yes, abort: yes });

    expect(visibleButtons(null, { id: 'r1', state: 'progressing' })).toEqual([]);
    expect(visibleButtons(answer, { id: 'r2', state: 'progressing' })).toEqual([]);
    expect(visibleButtons(answer, { id: 'r1', state: 'awaiting-approval' })).toEqual([]);
  });
});

describe('mergeMe', () => {
  it('replaces the releases it has news of and keeps the others; another user replaces all', () => {
    const old: Me = { user: { id: 1, username: 'root', name: 'root' }, releases: [{ id: 'a', state: 'paused', commands: {} }, { id: 'b', state: 'paused', commands: {} }] };
    const fresh: Me = { user: { id: 1, username: 'root', name: 'root' }, releases: [{ id: 'b', state: 'progressing', commands: {} }] };

    expect(mergeMe(old, fresh).releases.map((r) => `${r.id}:${r.state}`)).toEqual(['b:progressing', 'a:paused']);
    expect(mergeMe(old, { ...fresh, user: { id: 2, username: 'x', name: 'x' } })).toEqual({ ...fresh, user: { id: 2, username: 'x', name: 'x' } });
  });
});
