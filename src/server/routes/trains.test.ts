import { describe, expect, it } from 'vitest';
import type { TrainActAnswer } from '../../engine/train-commands.js';
import { trainCommandStatus } from './trains.js';

describe('trainCommandStatus', () => {
  it.each<[string, TrainActAnswer, number]>([
    ['done', { ok: true, message: 'Train bookinfo approved by @rm.' }, 200],
    ['refused by the policy', { ok: false, message: 'Refused for reviews: approvals.minAccessLevel: maintainer required, @dev has developer.' }, 403],
    ['not in a state for it', { ok: false, message: 'Train bookinfo is not waiting for an approval (it is promoting).' }, 409],
    ['never taken by a driver: try again', { ok: false, delivery: 'not-applied', message: 'Train bookinfo: the replica driving run r1 did not take the command within 5 s, so it was not applied; try again.' }, 503],
    ['taken, no answer yet: may still apply', { ok: false, delivery: 'pending', message: 'Train bookinfo: the replica driving run r1 took the command but did not answer within 5 s; it may still apply.' }, 202],
  ])('%s → %i', (_case, answer, status) => {
    expect(trainCommandStatus(answer)).toBe(status);
  });
});
