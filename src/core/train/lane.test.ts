import { describe, expect, it } from 'vitest';
import { baggageRegex, laneMatch } from './lane.js';

describe('baggageRegex', () => {
  // Envoy's safe_regex is RE2 with a full match; JavaScript agrees on this subset when anchored.
  const matches = (header: string) => new RegExp(baggageRegex('bookinfo-v2')).test(header);

  it.each([
    ['canary-lane=bookinfo-v2', true],
    ['userId=alice,canary-lane=bookinfo-v2', true],
    ['userId=alice, canary-lane = bookinfo-v2 ;ttl=3, isProduction=false', true],
    ['canary-lane=bookinfo-v2;prop', true],
    ['canary-lane=bookinfo-v20', false],
    ['canary-lane=bookinfo-v', false],
    ['xcanary-lane=bookinfo-v2', false],
    ['other=canary-lane=bookinfo-v2', false],
    ['canary-lane=bookinfoXv2', false],
    ['', false],
  ])('%j → %s', (header, expected) => {
    expect(matches(header)).toBe(expected);
  });
});

describe('laneMatch', () => {
  it('matches the header alone, or the header or baggage', () => {
    expect(laneMatch({ header: 'x-canary-lane', value: 'v2', baggage: false })).toEqual([{ headers: { 'x-canary-lane': { exact: 'v2' } } }]);
    expect(laneMatch({ header: 'x-canary-lane', value: 'v2', baggage: true })).toEqual([
      { headers: { 'x-canary-lane': { exact: 'v2' } } },
      { headers: { baggage: { regex: baggageRegex('v2') } } },
    ]);
  });
});
