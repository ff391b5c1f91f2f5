// The board's state, fed by the event stream: live releases (newest first) and the ones that ended
// while the board was open or shortly before, each with its outcome and reason.

import { isLive } from '../../src/core/release.js';
import type { BoardRelease } from './api.js';

export interface BoardState {
  live: BoardRelease[];
  ended: BoardRelease[];
}

export const EMPTY_BOARD: BoardState = { live: [], ended: [] };
const KEEP_ENDED = 12;

const newestFirst = (a: BoardRelease, b: BoardRelease): number => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/** A snapshot replaces the live list (it is the resync after a reconnect); ended ones stay. */
export function applySnapshot(state: BoardState, releases: BoardRelease[]): BoardState {
  const live = releases.filter((r) => isLive(r.state)).sort(newestFirst);
  const liveIds = new Set(live.map((r) => r.id));
  return { live, ended: state.ended.filter((r) => !liveIds.has(r.id)) };
}

/** One release's new row; an older copy (by updatedAt) than the one shown is ignored. */
export function applyRelease(state: BoardState, release: BoardRelease): BoardState {
  const shown = state.live.find((r) => r.id === release.id) ?? state.ended.find((r) => r.id === release.id);
  if (shown && shown.updatedAt > release.updatedAt) return state;
  const live = state.live.filter((r) => r.id !== release.id);
  const ended = state.ended.filter((r) => r.id !== release.id);
  if (isLive(release.state)) return { live: [...live, release].sort(newestFirst), ended };
  return { live, ended: [release, ...ended].slice(0, KEEP_ENDED) };
}

/** Releases that ended before the board opened (from the history API), under those seen ending live. */
export function withRecent(state: BoardState, recent: BoardRelease[]): BoardState {
  const known = new Set([...state.live, ...state.ended].map((r) => r.id));
  const older = recent.filter((r) => !isLive(r.state) && !known.has(r.id));
  return { live: state.live, ended: [...state.ended, ...older].sort(newestFirst).slice(0, KEEP_ENDED) };
}
