import { describe, expect, it } from 'vitest';
import { stepTimings } from './steps.js';

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
const T = Date.UTC(2026, 0, 1);

describe('stepTimings', () => {
  const audit = [
    { at: at(0), stepIndex: null },
    { at: at(5), stepIndex: 0 },
    { at: at(6), stepIndex: 0 },
    { at: at(20), stepIndex: 1 },
    { at: at(80), stepIndex: 2 },
  ];

  it('runs each step from its first entry to the next step, the current one until now', () => {
    const timings = stepTimings(audit, { step: 2, endedAt: null }, T + 100_000);

    expect([...timings.entries()]).toEqual([
      [0, { startedAt: T + 5_000, endedAt: T + 20_000, ms: 15_000 }],
      [1, { startedAt: T + 20_000, endedAt: T + 80_000, ms: 60_000 }],
      [2, { startedAt: T + 80_000, endedAt: null, ms: 20_000 }],
    ]);
  });

  it('ends the last step when the release ended', () => {
    const timings = stepTimings(audit, { step: 2, endedAt: at(90) }, T + 500_000);

    expect(timings.get(2)).toEqual({ startedAt: T + 80_000, endedAt: T + 90_000, ms: 10_000 });
  });
});
