// Flux intervals are Go durations; the simulated Flux reads them as Flux does.

import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../src/sim/flux-controller.js';

describe('parseGoDuration', () => {
  it.each([
    ['10m', 600_000],
    ['10m0s', 600_000],
    ['1h2m3s', 3_723_000],
    ['1m30s', 90_000],
    ['150ms', 150],
    ['1.5s', 1500],
    ['0', 0],
  ])('%s', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['5', '10 minutes', 'm'])('refuses %j', (text) => {
    expect(() => parseGoDuration(text)).toThrow(`not a duration: ${text}`);
  });
});
