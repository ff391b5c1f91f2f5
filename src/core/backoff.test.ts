import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffDelayMs, jitterUnit } from './backoff.js';

const backoff = { baseMs: 200, capMs: 5_000 };

describe('backoffCeilingMs', () => {
  it.each([
    [1, 200],
    [2, 400],
    [3, 800],
    [5, 3_200],
    [6, 5_000],
    [100, 5_000],
    [0, 200],
  ])('retry %i may wait up to %i ms', (attempt, ceiling) => {
    expect(backoffCeilingMs(attempt, backoff)).toBe(ceiling);
  });
});

describe('backoffDelayMs', () => {
  it('draws the whole range from 0 to just below the ceiling', () => {
    expect(backoffDelayMs(3, backoff, () => 0)).toBe(0);
    expect(backoffDelayMs(3, backoff, () => 0.5)).toBe(400);
    expect(backoffDelayMs(3, backoff, () => 0.999999)).toBe(799);
  });

  it('never leaves [0, cap) whatever the random source returns', () => {
    for (const value of [-1, 0, 0.3, 1, 2, Number.NaN]) {
      const delay = backoffDelayMs(50, backoff, () => value);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(backoff.capMs);
    }
  });
});

describe('jitterUnit', () => {
  it('is deterministic, in [0, 1), and spreads different seeds', () => {
    const units = Array.from({ length: 1_000 }, (_, i) => jitterUnit(`release-${i}:3`));
    expect(jitterUnit('release-1:3')).toBe(units[1]);
    expect(Math.min(...units)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...units)).toBeLessThan(1);
    const lowHalf = units.filter((u) => u < 0.5).length;
    expect(lowHalf).toBeGreaterThan(400);
    expect(lowHalf).toBeLessThan(600);
  });
});
