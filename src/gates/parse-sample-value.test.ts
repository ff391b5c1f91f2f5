import { describe, expect, it } from 'vitest';
import { parseSampleValue } from './parse-sample-value.js';
import { formatPromDuration } from './prometheus-duration.js';
import { renderQuery } from './render-query.js';

describe('parseSampleValue', () => {
  it.each([
    ['99.5', 99.5],
    ['0', 0],
    ['1e3', 1000],
    ['-2', -2],
    ['NaN', Number.NaN],
    ['+Inf', Number.POSITIVE_INFINITY],
    ['-Inf', Number.NEGATIVE_INFINITY],
    ['abc', null],
    ['', null],
  ])('%j → %s', (text, expected) => {
    expect(parseSampleValue(text)).toBe(expected);
  });
});

describe('formatPromDuration', () => {
  it.each([
    [60_000, '1m'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [1_500, '1s500ms'],
    [250, '250ms'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatPromDuration(ms)).toBe(text);
  });

  it('refuses zero and fractions', () => {
    expect(() => formatPromDuration(0)).toThrow(RangeError);
    expect(() => formatPromDuration(1.5)).toThrow(RangeError);
  });
});

describe('renderQuery', () => {
  const vars = { namespace: 'bookinfo', 'canary.deployment': 'reviews-canary', window: '1m', interval: '1m' };

  it('fills placeholders with or without spaces', () => {
    expect(renderQuery('x{ns="{{ namespace }}",w="{{canary.deployment}}"}[{{  interval }}]', vars)).toBe('x{ns="bookinfo",w="reviews-canary"}[1m]');
  });

  it('refuses an unknown variable instead of sending it to Prometheus', () => {
    expect(() => renderQuery('x[{{ windw }}]', vars)).toThrow('unknown template variable {{ windw }}');
  });
});

describe('queryVariables', () => {
  it('offers the documented names, Flagger aliases, and a stable twin for relative thresholds', async () => {
    const { queryVariables, stableQueryVariables } = await import('./render-query.js');
    const release = {
      service: 'reviews',
      definition: {
        target: {
          namespace: 'bookinfo',
          host: 'reviews',
          canary: { deployment: 'reviews-canary', subset: 'canary' },
          stable: { deployment: 'reviews-primary', subset: 'stable' },
        },
        analysis: {},
      },
    } as unknown as Parameters<typeof queryVariables>[0];

    const vars = queryVariables(release, 90_000);

    expect(vars).toMatchObject({
      namespace: 'bookinfo',
      service: 'reviews',
      'canary.deployment': 'reviews-canary',
      'stable.deployment': 'reviews-primary',
      'canary.subset': 'canary',
      'stable.subset': 'stable',
      target: 'reviews-canary',
      window: '1m30s',
      interval: '1m30s',
    });
    expect(stableQueryVariables(vars)).toMatchObject({ 'canary.deployment': 'reviews-primary', target: 'reviews-primary', 'canary.subset': 'stable' });
  });

  it('fills every name validate accepts, and names the stable workload as baseline without target.baseline', async () => {
    const { queryVariables, baselineQueryVariables } = await import('./render-query.js');
    const { TEMPLATE_VARIABLES, templateProblems } = await import('../core/template-variables.js');
    const release = {
      service: 'reviews',
      definition: {
        target: { namespace: 'bookinfo', host: 'reviews', canary: { deployment: 'c', subset: 'canary' }, stable: { deployment: 's', subset: 'stable' } },
        analysis: {},
      },
    } as unknown as Parameters<typeof queryVariables>[0];
    const template = TEMPLATE_VARIABLES.map((name) => `{{ ${name} }}`).join(' ');

    const vars = queryVariables(release, 60_000);

    expect(templateProblems(template)).toEqual([]);
    expect(renderQuery(template, vars)).toBe('bookinfo reviews reviews c canary s stable s stable c 1m 1m 10s');
    expect(baselineQueryVariables(vars)).toMatchObject({ 'canary.deployment': 's', target: 's', 'canary.subset': 'stable' });
  });
});
