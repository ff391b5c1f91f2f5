import { describe, expect, it } from 'vitest';
import { createIdleWatch } from './idle-watch.js';

describe('createIdleWatch', () => {
  it.each([
    ['due jobs and none active for the whole window', [[3, 0, 0], [3, 0, 30_000], [2, 0, 60_000]], true],
    ['due jobs, none active, window not yet over', [[3, 0, 0], [3, 0, 59_999]], false],
    ['a worker picks a job up in between', [[3, 0, 0], [3, 1, 30_000], [3, 0, 40_000], [3, 0, 90_000]], false],
    ['the backlog drains in between', [[3, 0, 0], [0, 0, 30_000], [1, 0, 40_000], [1, 0, 99_999]], false],
    ['only delayed jobs (nothing due)', [[0, 0, 0], [0, 0, 120_000]], false],
    ['busy, not idle', [[5, 8, 0], [5, 8, 120_000]], false],
  ])('%s', (_case, samples, idle) => {
    const watch = createIdleWatch(60_000);
    let last = false;
    for (const [due, active, now] of samples as [number, number, number][]) last = watch.observe({ due, active }, now);
    expect(last).toBe(idle);
  });
});
