import { describe, expect, it } from 'vitest';
import { linearScale, linePath, newVersionShare, niceTicks, stepPath, thresholdLimit, valueDomain } from './chart.js';

const x = linearScale([0, 100], [0, 200]);
const y = linearScale([0, 10], [100, 0]);

describe('chart maths', () => {
  it('maps a domain onto a range, upside down for y', () => {
    expect([x(0), x(50), x(100)]).toEqual([0, 100, 200]);
    expect([y(0), y(10)]).toEqual([100, 0]);
  });

  it('breaks a line where there is no data instead of drawing zero', () => {
    expect(linePath([{ t: 0, v: 1 }, { t: 10, v: 2 }, { t: 20, v: null }, { t: 30, v: 3 }], x, y)).toBe('M0 90 L20 80 M60 70');
  });

  it('holds a weight until the next change', () => {
    expect(stepPath([{ t: 0, v: 0 }, { t: 50, v: 5 }], x, y, 100)).toBe('M0 100 L100 100 L100 50 L200 50');
  });

  it.each([
    [0, 100, 4, [0, 20, 40, 60, 80, 100]],
    [97.3, 100.2, 4, [98, 99, 100]],
    [0, 480, 4, [0, 100, 200, 300, 400]],
    [5, 5, 4, [5]],
  ])('niceTicks(%d, %d)', (min, max, count, ticks) => {
    expect(niceTicks(min, max, count)).toEqual(ticks);
  });

  it.each([
    ['>= 99', { bound: 'min', value: 99 }],
    ['<= 500 ms', { bound: 'max', value: 500 }],
    ['< 0.1', { bound: 'max', value: 0.1 }],
    ['<= stable + 20%', null],
    ['', null],
  ])('thresholdLimit(%j)', (text, limit) => {
    expect(thresholdLimit(text)).toEqual(limit);
  });

  it('plots the values and the threshold with some air, and something sensible for one value or none', () => {
    expect(valueDomain([98, 100], [99])).toEqual([97.8, 100.2]);
    expect(valueDomain([null, 5])).toEqual([4.4, 5.6]);
    expect(valueDomain([])).toEqual([0, 1]);
  });
});

describe('newVersionShare', () => {
  it('is the canary weight until promotion and 100 % from then on', () => {
    const points = [{ t: 0, v: 0 }, { t: 10, v: 30 }, { t: 20, v: 100 }, { t: 30, v: 0 }];

    expect(newVersionShare(points, 20).map((p) => p.v)).toEqual([0, 30, 100, 100]);
    expect(newVersionShare(points, null)).toBe(points);
  });
});
