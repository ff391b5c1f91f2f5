import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEFAULT_METRIC_JUDGE, defaultEffectSize } from '../core/judge/judge-spec.js';
import { formatDefinitionError } from './definition-error.js';
import { parseDefinition } from './parse-definition.js';

type Yaml = Record<string, unknown>;

function base(): Yaml {
  return {
    apiVersion: 'canarybot/v1',
    kind: 'ReleasePipeline',
    metadata: { name: 'reviews' },
    spec: {
      trigger: { project: 'bookinfo/reviews', image: 'registry.example.com/bookinfo/reviews' },
      target: {
        namespace: 'bookinfo',
        virtualService: 'reviews',
        host: 'reviews',
        stable: { subset: 'stable', deployment: 'reviews-primary' },
        canary: { subset: 'canary', deployment: 'reviews-canary', container: 'reviews' },
      },
      strategy: { canary: { steps: [{ setWeight: 10 }, { analysis: {} }, { setWeight: 100 }] } },
      analysis: { metrics: [{ name: 'request-success-rate', min: 99 }] },
    },
  };
}

function parse(change: (doc: { spec: Record<string, Record<string, unknown>> }) => void) {
  const doc = base() as { spec: Record<string, Record<string, unknown>> };
  change(doc);
  return parseDefinition(stringify(doc), 'p.yaml');
}

describe('definitions: per-metric judge', () => {
  it('resolves `judge: {}` to the built-in defaults of each metric', () => {
    const { definition, errors } = parse((doc) => {
      doc.spec.analysis!.metrics = [
        { name: 'request-success-rate', judge: {} },
        { name: 'request-duration-p99', max: 500, judge: null },
        { name: 'queue-depth', query: 'sum(q{w="{{ target }}"})', judge: { group: 'saturation' } },
      ];
    });

    expect(errors).toEqual([]);
    expect(definition!.analysis.metrics.map((m) => m.judge)).toEqual([
      { ...DEFAULT_METRIC_JUDGE, direction: 'decrease', critical: true },
      { ...DEFAULT_METRIC_JUDGE, direction: 'increase' },
      { ...DEFAULT_METRIC_JUDGE, group: 'saturation' },
    ]);
    expect(definition!.analysis.metrics[1]).toMatchObject({ max: 500 });
    expect(definition!.analysis.judge).toBeUndefined();
  });

  it('takes every pinned field, and CLES defaults for a CLES effect size', () => {
    const judge = {
      direction: 'increase',
      tolerance: 0.1,
      confidence: 0.95,
      effectSize: { measure: 'cles', allowedIncrease: 0.8 },
      critical: true,
      mustHaveData: true,
      nanStrategy: 'replace',
      outliers: 'remove',
      group: 'latency',
    };

    const { definition, errors } = parse((doc) => {
      doc.spec.analysis!.metrics = [{ name: 'request-count', judge }];
      doc.spec.analysis!.judge = { step: '5s', thresholds: { pass: 90, marginal: 60 }, groups: { latency: 100 } };
    });

    expect(errors).toEqual([]);
    expect(definition!.analysis.metrics[0]!.judge).toEqual({ ...judge, effectSize: { ...defaultEffectSize('cles'), allowedIncrease: 0.8 } });
    expect(definition!.analysis.judge).toEqual({ stepMs: 5_000, thresholds: { pass: 90, marginal: 60 }, groups: { latency: 100 } });
  });

  it.each<[string, (doc: { spec: Record<string, Record<string, unknown>> }) => void, string, string | RegExp]>([
    ['a bad direction', (d) => (d.spec.analysis!.metrics = [{ name: 'request-count', judge: { direction: 'up' } }]), 'spec.analysis.metrics[0].judge.direction', 'must be increase, decrease or either (got "up")'],
    ['a confidence of 98', (d) => (d.spec.analysis!.metrics = [{ name: 'request-count', judge: { confidence: 98 } }]), 'spec.analysis.metrics[0].judge.confidence', 'must be between 0 and 1, e.g. 0.98'],
    ['an allowed increase below no effect', (d) => (d.spec.analysis!.metrics = [{ name: 'request-count', judge: { effectSize: { allowedIncrease: 0.9 } } }]), 'spec.analysis.metrics[0].judge.effectSize.allowedIncrease', 'must be at least 1 for meanRatio (got 0.9)'],
    ['a CLES above 1', (d) => (d.spec.analysis!.metrics = [{ name: 'request-count', judge: { effectSize: { measure: 'cles', criticalIncrease: 1.5 } } }]), 'spec.analysis.metrics[0].judge.effectSize.criticalIncrease', /at most 1/],
    ['an unknown judge field', (d) => (d.spec.analysis!.metrics = [{ name: 'request-count', judge: { tolerence: 0.2 } }]), 'spec.analysis.metrics[0].judge.tolerence', 'unknown field "tolerence"'],
    ['marginal above pass', (d) => (d.spec.analysis!.judge = { thresholds: { pass: 60, marginal: 70 } }), 'spec.analysis.judge.thresholds.marginal', 'must not be above pass (70 > 60)'],
    ['weights over 100', (d) => (d.spec.analysis!.judge = { groups: { a: 70, b: 40 } }), 'spec.analysis.judge.groups', 'group weights add up to 110; at most 100'],
    ['a weighted group without metrics', (d) => {
      d.spec.analysis!.metrics = [{ name: 'request-count', judge: { group: 'errors' } }];
      d.spec.analysis!.judge = { groups: { errors: 50, latency: 50 } };
    }, 'spec.analysis.judge.groups', 'analysis.judge.groups weights group "latency", but no judged metric belongs to it'],
    ['a group left without weight', (d) => {
      d.spec.analysis!.metrics = [{ name: 'request-count', judge: { group: 'errors' } }, { name: 'request-duration-p99', judge: {} }];
      d.spec.analysis!.judge = { groups: { errors: 100 } };
    }, 'spec.analysis.judge.groups', /group "default" has no weight/],
    ['a judge step below 1s', (d) => (d.spec.analysis!.judge = { step: '500ms' }), 'spec.analysis.judge.step', 'minimum 1s (got 500ms)'],
    ['credentials in provider headers', (d) => (d.spec.analysis!.provider = { prometheus: { headers: { Authorization: 'Bearer x' } } }), 'spec.analysis.provider.prometheus.headers.Authorization', /bearerTokenEnv/],
    ['a lowercase token variable', (d) => (d.spec.analysis!.provider = { prometheus: { bearerTokenEnv: 'token' } }), 'spec.analysis.provider.prometheus.bearerTokenEnv', /environment variable name/],
  ])('refuses %s, naming the field', (_name, change, path, message) => {
    const { definition, errors } = parse(change);

    expect(definition).toBeNull();
    const error = errors.find((e) => e.path === path);
    expect(error, errors.map(formatDefinitionError).join('\n')).toBeDefined();
    if (typeof message === 'string') expect(error?.message).toBe(message);
    else expect(error?.message).toMatch(message);
  });

  it('keeps provider overrides per definition', () => {
    const { definition, errors } = parse((doc) => {
      doc.spec.analysis!.provider = {
        prometheus: { url: 'https://mimir.example.com/prometheus', headers: { 'X-Scope-OrgID': 'team-a' }, bearerTokenEnv: 'MIMIR_TEAM_A_TOKEN' },
        alertmanager: { headers: { 'X-Scope-OrgID': 'team-a' } },
      };
    });

    expect(errors).toEqual([]);
    expect(definition!.analysis.provider).toEqual({
      prometheus: { url: 'https://mimir.example.com/prometheus', headers: { 'X-Scope-OrgID': 'team-a' }, bearerTokenEnv: 'MIMIR_TEAM_A_TOKEN' },
      alertmanager: { headers: { 'X-Scope-OrgID': 'team-a' } },
    });
  });
});

describe('definitions: target.baseline', () => {
  const withBaseline = (steps: unknown[], kind = 'canary') => (doc: { spec: Record<string, Record<string, unknown>> }) => {
    doc.spec.target!.baseline = { subset: 'baseline', deployment: 'reviews-baseline' };
    doc.spec.strategy = { [kind]: { steps } };
  };

  it('is kept, and a canary with a baseline ends at 50 %', () => {
    const { definition, errors } = parse(withBaseline([{ setWeight: 10 }, { analysis: {} }, { setWeight: 50 }]));

    expect(errors).toEqual([]);
    expect(definition!.target.baseline).toEqual({ subset: 'baseline', deployment: 'reviews-baseline' });
  });

  it('refuses weights above 50 and an end short of 50', () => {
    const { errors } = parse(withBaseline([{ setWeight: 10 }, { setWeight: 60 }, { setWeight: 40 }]));

    expect(errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'spec.strategy.canary.steps: the last setWeight is 40: end with setWeight: 50, or with an approval step so that a person promotes explicitly',
      'spec.strategy.canary.steps[1].setWeight: with target.baseline the baseline gets as much traffic as the canary, so a weight is at most 50 (got 60)',
    ]);
  });

  it('lets a blue/green switch to 100 % (the baseline shares the preview route)', () => {
    expect(parse(withBaseline([{ analysis: {} }, { setWeight: 100 }], 'blueGreen')).errors).toEqual([]);
  });

  it.each([
    [{ subset: 'stable', deployment: 'reviews-baseline' }, 'spec.target.baseline.subset', 'must differ from stable.subset (both are "stable")'],
    [{ subset: 'baseline', deployment: 'reviews-canary' }, 'spec.target.baseline.deployment', 'must differ from canary.deployment (both are "reviews-canary")'],
  ])('refuses a baseline that is another side (%j)', (baseline, path, message) => {
    const { errors } = parse((doc) => {
      doc.spec.target!.baseline = baseline;
      doc.spec.strategy = { canary: { steps: [{ setWeight: 50 }] } };
    });

    expect(errors.find((e) => e.path === path)?.message).toBe(message);
  });
});
