import { describe, expect, it } from 'vitest';
import { visibleButtons, type Me } from './policy.js';

const maintainer: Me = { username: 'root', commands: { reviews: ['approve', 'promote', 'abort', 'pause', 'resume', 'retry'] } };
const developer: Me = { username: 'alice', commands: { reviews: [] } };

describe('visibleButtons', () => {
  it.each([
    ['awaiting-approval', ['approve', 'promote', 'abort']],
    ['progressing', ['promote', 'abort']],
    ['promoting', ['abort']],
    ['rolling-back', []],
    ['succeeded', []],
  ])('a user allowed everything sees, while %s: %j', (state, buttons) => {
    expect(visibleButtons(maintainer, { state: state as never, definition: 'reviews' })).toEqual(buttons);
  });

  it('shows nothing the policy does not allow, to nobody signed in, or for another service', () => {
    const waiting = { state: 'awaiting-approval' as const, definition: 'reviews' };

    expect(visibleButtons(developer, waiting)).toEqual([]);
    expect(visibleButtons(null, waiting)).toEqual([]);
    expect(visibleButtons(maintainer, { ...waiting, definition: 'ratings' })).toEqual([]);
  });
});
