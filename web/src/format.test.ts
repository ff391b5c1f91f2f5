import { describe, expect, it } from 'vitest';
import { age, duration, figure, stateTone, stateWord } from './format.js';

describe('format', () => {
  it.each([
    [0, '0s'],
    [42_400, '42s'],
    [302_000, '5m 02s'],
    [7_500_000, '2h 05m'],
    [(3 * 24 + 4) * 3_600_000, '3d 4h'],
    [-5_000, '0s'],
  ])('duration(%i) = %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it('age counts from an ISO time', () => {
    expect(age('2026-01-01T00:00:00Z', Date.UTC(2026, 0, 1, 0, 1, 30))).toBe('1m 30s');
  });

  it.each([
    [null, 'no data'],
    [Number.NaN, 'no data'],
    [99, '99'],
    [99.456, '99.46'],
    [512.34, '512.3'],
    [0.01234, '0.012'],
  ])('figure(%s) = %s', (value, text) => {
    expect(figure(value)).toBe(text);
  });

  it.each([
    ['succeeded', 'promoted', 'good'],
    ['rolled-back', 'rolled back', 'bad'],
    ['awaiting-approval', 'awaiting approval', 'wait'],
    ['progressing', 'progressing', 'busy'],
    ['superseded', 'superseded', 'neutral'],
  ])('%s reads %s (%s)', (state, word, tone) => {
    expect(stateWord(state)).toBe(word);
    expect(stateTone(state)).toBe(tone);
  });
});
