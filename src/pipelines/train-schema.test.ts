import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { TrainDefinition } from '../core/train/train-definition.js';
import { formatDefinitionError } from './definition-error.js';
import { parseDefinition } from './parse-definition.js';

type Yaml = Record<string, unknown>;

function base(): Yaml {
  return {
    apiVersion: 'canarybot/v1',
    kind: 'ReleaseTrain',
    metadata: { name: 'bookinfo-lane' },
    spec: {
      members: ['productpage', 'reviews', 'ratings'],
      entry: { member: 'productpage', weight: 5 },
      steps: [{ analysis: {} }, { setWeight: 20 }, { approval: {} }],
    },
  };
}

function variant(path: string, value: unknown): string {
  const doc = base();
  const keys = path.split('.');
  let node = doc as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return stringify(doc);
}

describe('parseDefinition: kind ReleaseTrain', () => {
  it('normalizes the smallest train with every default filled in', () => {
    const { definition, train, errors } = parseDefinition(stringify(base()), 't.yaml');

    expect(errors).toEqual([]);
    expect(definition).toBeNull();
    expect(train).toEqual<TrainDefinition>({
      name: 'bookinfo-lane',
      file: 't.yaml',
      members: ['productpage', 'reviews', 'ratings'],
      lane: { header: 'x-canary-lane', value: 'bookinfo-lane', baggage: false },
      entry: { member: 'productpage', kind: 'weight', weight: 5 },
      steps: [{ kind: 'analysis' }, { kind: 'setWeight', weight: 20 }, { kind: 'approval' }],
      analysis: { intervalMs: 30_000, count: 3, failureLimit: 0, inconclusiveLimit: 3 },
      promote: 'ordered',
      assembleWindowMs: 1_800_000,
    });
  });

  it('reads a cohort entry with abTest match blocks (cookies included)', () => {
    const doc = base();
    const spec = doc.spec as Yaml;
    spec.entry = { member: 'productpage', cohort: [{ headers: { 'x-user-group': 'beta' } }, { cookies: { group: 'beta' } }] };
    spec.steps = [{ analysis: {} }];

    const { train, errors } = parseDefinition(stringify(doc), 't.yaml');

    expect(errors).toEqual([]);
    expect(train?.entry).toEqual({ member: 'productpage', kind: 'cohort', cohort: [{ headers: { 'x-user-group': { exact: 'beta' } } }, { cookies: { group: 'beta' } }] });
  });

  it.each([
    ['one member', 'spec.members', ['productpage'], 'spec.members', 'a train has at least two members (one service is a ReleasePipeline)'],
    ['a member twice', 'spec.members', ['productpage', 'reviews', 'reviews'], 'spec.members', 'lists "reviews" twice'],
    ['a bad member name', 'spec.members', ['productpage', 'Reviews'], 'spec.members[1]', 'must be a Kubernetes name'],
    ['entry not first', 'spec.entry', { member: 'reviews', weight: 5 }, 'spec.entry.member', 'the entry is where the call chain starts, so it must be the first of members (it is member 2: "reviews")'],
    ['entry with both', 'spec.entry', { member: 'productpage', weight: 5, cohort: [{ headers: { a: 'b' } }] }, 'spec.entry', 'needs exactly one of cohort'],
    ['entry with neither', 'spec.entry', { member: 'productpage' }, 'spec.entry', 'needs exactly one of cohort'],
    ['entry weight 0', 'spec.entry', { member: 'productpage', weight: 0 }, 'spec.entry.weight', 'must be between 1 and 100 (got 0)'],
    ['an empty cohort block', 'spec.entry', { member: 'productpage', cohort: [{}] }, 'spec.entry.cohort[0]', 'a match needs at least one header'],
    ['an uppercase lane header', 'spec.lane', { header: 'X-Lane' }, 'spec.lane.header', 'must be a lowercase header name'],
    ['a lane value with a comma', 'spec.lane', { value: 'a,b' }, 'spec.lane.value', 'must be letters, digits'],
    ['a webhook step', 'spec.steps', [{ webhook: { name: 'x', url: 'https://x' } }], 'spec.steps[0].webhook', 'unknown field "webhook"'],
    ['two kinds in a step', 'spec.steps', [{ pause: {}, approval: {} }], 'spec.steps[0]', 'a train step has exactly one of setWeight, pause, analysis, approval (found pause and approval)'],
    ['no steps', 'spec.steps', [], 'spec.steps', 'must list at least one step'],
    ['a bad promote', 'spec.promote', 'leaf-first', 'spec.promote', 'must be one of "ordered", "together" (got "leaf-first")'],
    ['a bad window', 'spec.assembleWindow', 'soon', 'spec.assembleWindow', 'must be a duration'],
    ['an analysis shorter than the interval', 'spec.steps', [{ analysis: { duration: '10s' } }], 'spec.steps[0].analysis.duration', 'is shorter than spec.analysis.interval'],
    ['an unknown field', 'spec.cars', 3, 'spec.cars', 'unknown field "cars"'],
  ])('%s is refused with its path', (_, path, value, errorPath, message) => {
    const { train, errors } = parseDefinition(variant(path, value), 't.yaml');

    expect(train ?? null).toBeNull();
    expect(errors.map((error) => error.path)).toContain(errorPath);
    expect(errors.find((error) => error.path === errorPath)?.message).toContain(message);
  });

  it('refuses setWeight with a cohort entry, at the step', () => {
    const { errors } = parseDefinition(variant('spec.entry', { member: 'productpage', cohort: [{ headers: { a: 'b' } }] }), 't.yaml');

    expect(errors.map(formatDefinitionError)).toEqual([
      't.yaml:17:18: spec.steps[1].setWeight: the entry is a cohort (match blocks); setWeight applies to an entry by weight',
    ]);
  });
});
