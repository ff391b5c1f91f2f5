// A release behind a concurrency limit, in the pure core: it waits in phase `queued` with the generic
// wait (kind `concurrency`) naming what it waits for, ticks never start it, the admission's `start`
// does, and it can be aborted while it waits without anything being touched.

import { describe, expect, it } from 'vitest';
import { notificationText } from '../../src/chatops/notification-text.js';
import { decide } from '../../src/core/decide.js';
import { boardRelease } from '../../src/engine/board-view.js';
import { renderProgressNote } from '../../src/gitlab/render-progress-note.js';
import { MIA, T0, release } from './fixtures.js';

const queued = () => release(undefined, { phase: 'queued' });
const SENTENCE = 'Waiting for a free release slot: namespace default allows 1 release at once and ratings (ratings-1) is running. It starts on its own when one ends.';

describe('a queued release', () => {
  it('shows what it waits for (audited and announced once; a new sentence only updates the note)', () => {
    const first = decide(queued(), { type: 'queued', sentence: SENTENCE, blockers: ['ratings-1'] }, T0 + 1_000);
    const moved = decide(first.next, { type: 'queued', sentence: SENTENCE.replace('ratings (ratings-1)', 'details (details-1)'), blockers: ['details-1'] }, T0 + 9_000);
    const same = decide(moved.next, { type: 'queued', sentence: moved.next.wait!.sentence, blockers: ['details-1'] }, T0 + 10_000);

    expect(first.next.wait).toEqual({ kind: 'concurrency', sentence: SENTENCE, since: T0 + 1_000, until: null, link: null });
    expect(first.next.audit.at(-1)).toMatchObject({ action: 'queued', detail: SENTENCE });
    expect(first.effects).toEqual([{ type: 'report', event: 'waiting' }, { type: 'notify', event: 'waiting' }]);
    expect(moved.next.wait).toMatchObject({ since: T0 + 1_000, sentence: expect.stringContaining('details (details-1)') });
    expect(moved.effects).toEqual([{ type: 'report', event: 'waiting' }]);
    expect(same.next).toBe(moved.next);
  });

  it('is never started by a tick (a recovery tick included)', () => {
    const waiting = decide(queued(), { type: 'queued', sentence: SENTENCE, blockers: [] }, T0).next;

    expect(decide(waiting, { type: 'tick' }, T0 + 60_000)).toEqual({ next: waiting, effects: [] });
  });

  it('starts at pre-flight when admitted, the wait over and audited', () => {
    const waiting = decide(queued(), { type: 'queued', sentence: SENTENCE, blockers: [] }, T0).next;

    const started = decide(waiting, { type: 'start' }, T0 + 90_000);

    expect(started.effects).toEqual([{ type: 'preflight' }]);
    expect(started.next.wait ?? null).toBeNull();
    expect(started.next.audit.at(-1)).toMatchObject({ action: 'admitted', detail: 'a release slot is free after 90 s in the queue' });
  });

  it('can be aborted while it waits: ended at once, nothing written', () => {
    const waiting = decide(queued(), { type: 'queued', sentence: SENTENCE, blockers: [] }, T0).next;

    const aborted = decide(waiting, { type: 'command', verb: 'abort', actor: MIA, releaseId: 'rel-1', stepIndex: -1 }, T0 + 5_000);

    expect(aborted.next.state).toBe('aborted');
    expect(aborted.next.wait ?? null).toBeNull();
    expect(aborted.effects.filter((e) => e.type !== 'report' && e.type !== 'notify')).toEqual([]);
  });

  it('a queued input for a release that already started changes nothing', () => {
    const started = decide(queued(), { type: 'start' }, T0).next;

    expect(decide(started, { type: 'queued', sentence: SENTENCE, blockers: [] }, T0 + 1).next).toBe(started);
  });

  it('the MR note, chat and the API (board view) all name what it waits for', () => {
    const waiting = decide(queued(), { type: 'queued', sentence: SENTENCE, blockers: ['ratings-1'] }, T0).next;

    expect(renderProgressNote(waiting)).toContain(SENTENCE);
    expect(notificationText(waiting, 'waiting', { flavor: 'slack' })).toContain(SENTENCE);
    expect(boardRelease(waiting).wait).toMatchObject({ kind: 'concurrency', sentence: SENTENCE, until: null });
  });
});
