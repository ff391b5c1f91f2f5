import { describe, expect, it } from 'vitest';
import type { BoardRelease } from './api.js';
import { applyRelease, applySnapshot, EMPTY_BOARD, withRecent } from './board-state.js';

function row(id: string, state: string, createdAt: string, updatedAt = createdAt): BoardRelease {
  return { id, state, createdAt, updatedAt } as BoardRelease;
}

const ids = (rows: BoardRelease[]): string[] => rows.map((r) => r.id);

describe('board state', () => {
  it('a snapshot replaces the live list, newest first, and keeps what ended', () => {
    const before = { live: [row('gone', 'progressing', '2026-01-01')], ended: [row('old', 'succeeded', '2026-01-01')] };

    const after = applySnapshot(before, [row('a', 'progressing', '2026-01-02'), row('b', 'paused', '2026-01-03'), row('done', 'succeeded', '2026-01-04')]);

    expect(ids(after.live)).toEqual(['b', 'a']);
    expect(ids(after.ended)).toEqual(['old']);
  });

  it('a release that ends moves from live to the top of ended, with its reason', () => {
    const state = applySnapshot(EMPTY_BOARD, [row('a', 'progressing', '2026-01-02', '2026-01-02T00:01:00Z')]);

    const ended = applyRelease(state, { ...row('a', 'rolled-back', '2026-01-02', '2026-01-02T00:02:00Z'), reason: 'success rate 80 < 99' });

    expect(ids(ended.live)).toEqual([]);
    expect(ended.ended[0]).toMatchObject({ id: 'a', state: 'rolled-back', reason: 'success rate 80 < 99' });
  });

  it('ignores a copy older than the one shown, adds a new live one in order', () => {
    const state = applySnapshot(EMPTY_BOARD, [row('a', 'paused', '2026-01-02', '2026-01-02T00:05:00Z')]);

    const stale = applyRelease(state, row('a', 'progressing', '2026-01-02', '2026-01-02T00:04:00Z'));
    const added = applyRelease(state, row('b', 'pending', '2026-01-03'));

    expect(stale).toBe(state);
    expect(ids(added.live)).toEqual(['b', 'a']);
  });

  it('recent history fills in under what ended live, without live ones or duplicates', () => {
    const state = { live: [row('a', 'progressing', '2026-01-05')], ended: [row('b', 'aborted', '2026-01-04')] };

    const filled = withRecent(state, [row('a', 'progressing', '2026-01-05'), row('b', 'aborted', '2026-01-04'), row('c', 'succeeded', '2026-01-03')]);

    expect(ids(filled.ended)).toEqual(['b', 'c']);
  });
});
