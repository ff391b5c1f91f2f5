import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Definition } from '../core/definition.js';
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

/** The base definition with `value` set at a dotted path (`undefined` deletes). */
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

function parse(text: string): ReturnType<typeof parseDefinition> {
  return parseDefinition(text, 'p.yaml');
}

describe('parseDefinition: defaults', () => {
  it('normalizes the smallest definition with every default filled in', () => {
    const { definition, errors } = parse(stringify(base()));

    expect(errors).toEqual([]);
    expect(definition).toEqual<Definition>({
      name: 'reviews',
      file: 'p.yaml',
      trigger: { project: 'bookinfo/reviews', branch: 'main', image: 'registry.example.com/bookinfo/reviews', tag: { kind: 'short-sha' } },
      target: {
        clusters: ['default'],
        namespace: 'bookinfo',
        virtualService: 'reviews',
        host: 'reviews',
        stable: { subset: 'stable', deployment: 'reviews-primary', container: 'reviews' },
        canary: { subset: 'canary', deployment: 'reviews-canary', container: 'reviews' },
        settleMs: 5000,
        readinessDeadlineMs: 600_000,
      },
      strategy: {
        kind: 'canary',
        steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'analysis' }, { kind: 'setWeight', weight: 100 }],
      },
      analysis: {
        intervalMs: 30_000,
        windowMs: 60_000,
        count: 3,
        failureLimit: 0,
        inconclusiveLimit: 3,
        consecutiveErrorLimit: 4,
        minRequests: 20,
        metrics: [{ name: 'request-success-rate', min: 99 }],
      },
      alerts: [],
      approvals: { minAccessLevel: 'maintainer', users: [], groups: [], allowAuthor: false },
      notify: {},
      onFailure: 'rollback',
      holdTimeoutMs: 3_600_000,
    });
  });
});

describe('parseDefinition: good variants', () => {
  it.each<[string, string, unknown, (d: Definition) => unknown, unknown]>([
    ['cluster list', 'spec.target.cluster', ['staging', 'prod'], (d) => d.target.clusters, ['staging', 'prod']],
    ['cluster string', 'spec.target.cluster', 'prod', (d) => d.target.clusters, ['prod']],
    ['onFailure keepPromoted', 'spec.onFailure', 'keepPromoted', (d) => d.onFailure, 'keepPromoted'],
    ['onFailure rollback', 'spec.onFailure', 'rollback', (d) => d.onFailure, 'rollback'],
    ['environment name and tier', 'spec.environment', { name: 'payments/eu', tier: 'production' }, (d) => d.environment, { name: 'payments/eu', tier: 'production' }],
    ['environment tier only', 'spec.environment', { tier: 'staging' }, (d) => d.environment, { tier: 'staging' }],
    ['environment name per cluster', 'spec.environment', { name: 'production/{{ cluster }}' }, (d) => d.environment, { name: 'production/{{ cluster }}' }],
    ['stable container', 'spec.target.stable', { subset: 'stable', deployment: 'reviews-primary', container: 'app' }, (d) => d.target.stable.container, 'app'],
    ['canary replicas', 'spec.target.canary', { subset: 'canary', deployment: 'reviews-canary', container: 'reviews', replicas: 2 }, (d) => d.target.canary.replicas, 2],
    ['settle 0s', 'spec.target.settle', '0s', (d) => d.target.settleMs, 0],
    ['readiness 1h30m', 'spec.target.readinessDeadline', '1h30m', (d) => d.target.readinessDeadlineMs, 5_400_000],
    ['route', 'spec.target.route', 'primary', (d) => d.target.route, 'primary'],
    ['numeric project', 'spec.trigger.project', 42, (d) => d.trigger.project, 42],
    ['tag sha', 'spec.trigger.tag', 'sha', (d) => d.trigger.tag, { kind: 'sha' }],
    ['tag ref', 'spec.trigger.tag', 'ref', (d) => d.trigger.tag, { kind: 'ref' }],
    ['tag variable', 'spec.trigger.tag', 'variable:IMAGE_TAG', (d) => d.trigger.tag, { kind: 'variable', name: 'IMAGE_TAG' }],
    ['registry with port', 'spec.trigger.image', 'registry:5000/team/app', (d) => d.trigger.image, 'registry:5000/team/app'],
    [
      'canary ending with approval',
      'spec.strategy',
      { canary: { steps: [{ setWeight: 20 }, { pause: { duration: '1s' } }, { approval: null }] } },
      (d) => d.strategy.steps,
      [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: 1000 }, { kind: 'approval' }],
    ],
    [
      'every step kind',
      'spec.strategy',
      {
        canary: {
          steps: [
            { setWeight: 0 },
            { pause: null },
            { analysis: { duration: '2m', count: 4, metrics: [{ name: 'request-count', min: 1 }] } },
            { webhook: { name: 'smoke', url: 'https://ci.example.com/x' } },
            { webhook: { name: 'auth', url: 'http://gate/x', timeout: '30s', bearerEnv: 'GATE_TOKEN' } },
            { approval: {} },
            { setWeight: 100 },
          ],
        },
      },
      (d) => d.strategy.steps,
      [
        { kind: 'setWeight', weight: 0 },
        { kind: 'pause' },
        { kind: 'analysis', durationMs: 120_000, count: 4, metrics: [{ name: 'request-count', min: 1 }] },
        { kind: 'webhook', name: 'smoke', url: 'https://ci.example.com/x', timeoutMs: 10_000 },
        { kind: 'webhook', name: 'auth', url: 'http://gate/x', timeoutMs: 30_000, bearerEnv: 'GATE_TOKEN' },
        { kind: 'approval' },
        { kind: 'setWeight', weight: 100 },
      ],
    ],
    [
      'abTest on a header and a cookie',
      'spec.strategy',
      { abTest: { match: [{ headers: { 'x-user-group': { exact: 'beta' } } }, { cookies: { 'user-group': 'beta' } }, { queryParams: { v: { prefix: '2' } } }], steps: [{ analysis: {} }] } },
      (d) => d.strategy,
      {
        kind: 'abTest',
        match: [{ headers: { 'x-user-group': { exact: 'beta' } } }, { cookies: { 'user-group': 'beta' } }, { queryParams: { v: { prefix: '2' } } }],
        steps: [{ kind: 'analysis' }],
      },
    ],
    ['header shorthand', 'spec.strategy', { abTest: { match: [{ headers: { 'x-b': 'yes' } }], steps: [{ approval: {} }] } }, (d) => d.strategy.kind === 'abTest' && d.strategy.match, [{ headers: { 'x-b': { exact: 'yes' } } }]],
    [
      'mirror then canary',
      'spec.strategy',
      { mirror: { steps: [{ setMirror: 50 }, { analysis: {} }, { setWeight: 100 }] } },
      (d) => d.strategy,
      { kind: 'mirror', steps: [{ kind: 'setMirror', percent: 50 }, { kind: 'analysis' }, { kind: 'setWeight', weight: 100 }] },
    ],
    ['mirror without weights', 'spec.strategy', { mirror: { steps: [{ setMirror: 100 }, { analysis: {} }] } }, (d) => d.strategy.steps.length, 2],
    [
      'blueGreen with default preview',
      'spec.strategy',
      { blueGreen: { steps: [{ analysis: {} }, { setWeight: 100 }] } },
      (d) => d.strategy,
      { kind: 'blueGreen', preview: { header: 'x-canarybot-preview', value: 'true' }, steps: [{ kind: 'analysis' }, { kind: 'setWeight', weight: 100 }] },
    ],
    [
      'analysis overrides',
      'spec.analysis',
      { interval: '10s', window: '2m', count: 5, failureLimit: 1, inconclusiveLimit: 0, consecutiveErrorLimit: 2, minRequests: 0, metrics: [{ name: 'p', query: 'sum(rate(x{ns="{{ namespace }}",w="{{canary.deployment}}"}[{{ interval }}]))', max: 1, maxDegradation: 10 }] },
      (d) => d.analysis,
      { intervalMs: 10_000, windowMs: 120_000, count: 5, failureLimit: 1, inconclusiveLimit: 0, consecutiveErrorLimit: 2, minRequests: 0, metrics: [{ name: 'p', query: 'sum(rate(x{ns="{{ namespace }}",w="{{canary.deployment}}"}[{{ interval }}]))', max: 1, maxDegradation: 10 }] },
    ],
    [
      'alerts',
      'spec.alerts',
      [{ alertmanager: { matchers: ['service="reviews"', 'severity=~"critical|page"', 'env!=dev'] } }],
      (d) => d.alerts,
      [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'reviews' }, { name: 'severity', op: '=~', value: 'critical|page' }, { name: 'env', op: '!=', value: 'dev' }] }],
    ],
    ['approvals', 'spec.approvals', { minAccessLevel: 'owner', users: ['ann'], allowAuthor: true }, (d) => d.approvals, { minAccessLevel: 'owner', users: ['ann'], groups: [], allowAuthor: true }],
    ['notify', 'spec.notify', { slack: { channel: '#rel' }, mattermost: { channel: 'town' } }, (d) => d.notify, { slack: { channel: '#rel' }, mattermost: { channel: 'town' } }],
  ])('%s', (_name, path, value, pick, expected) => {
    const { definition, errors } = parse(variant(path, value));

    expect(errors.map(formatDefinitionError)).toEqual([]);
    expect(pick(definition as Definition)).toEqual(expected);
  });

  it('accepts YAML anchors and merge keys', () => {
    const text = stringify(base()).replace(
      'analysis:\n    metrics:',
      'analysis:\n    <<: &defaults { interval: 10s }\n    metrics:',
    );

    const { definition, errors } = parse(text);

    expect(errors).toEqual([]);
    expect(definition?.analysis.intervalMs).toBe(10_000);
  });

  it('accepts an analysis with alerts and no metrics', () => {
    const doc = base();
    const spec = doc.spec as Yaml;
    delete spec.analysis;
    spec.alerts = [{ alertmanager: { matchers: ['service="reviews"'] } }];

    const { definition, errors } = parse(stringify(doc));

    expect(errors).toEqual([]);
    expect(definition?.analysis.metrics).toEqual([]);
  });
});

describe('parseDefinition: mistakes', () => {
  it.each<[string, string, unknown, string, string | RegExp]>([
    ['weight above 100', 'spec.strategy', { canary: { steps: [{ setWeight: 120 }] } }, 'spec.strategy.canary.steps[0].setWeight', 'must be between 0 and 100 (got 120)'],
    ['negative weight', 'spec.strategy', { canary: { steps: [{ setWeight: -5 }, { setWeight: 100 }] } }, 'spec.strategy.canary.steps[0].setWeight', 'must be between 0 and 100 (got -5)'],
    ['fractional weight', 'spec.strategy', { canary: { steps: [{ setWeight: 12.5 }, { setWeight: 100 }] } }, 'spec.strategy.canary.steps[0].setWeight', 'must be a whole number (got 12.5)'],
    ['weight as text', 'spec.strategy', { canary: { steps: [{ setWeight: 'ten' }, { setWeight: 100 }] } }, 'spec.strategy.canary.steps[0].setWeight', 'must be a number between 0 and 100 (got "ten")'],
    ['mirror above 100', 'spec.strategy', { mirror: { steps: [{ setMirror: 101 }] } }, 'spec.strategy.mirror.steps[0].setMirror', 'must be between 0 and 100 (got 101)'],
    ['canary not reaching 100', 'spec.strategy', { canary: { steps: [{ setWeight: 10 }, { analysis: {} }, { setWeight: 50 }] } }, 'spec.strategy.canary.steps', /the last setWeight is 50: end with setWeight: 100, or with an approval step/],
    ['canary without weights', 'spec.strategy', { canary: { steps: [{ analysis: {} }] } }, 'spec.strategy.canary.steps', /no step sets a weight/],
    ['mirror with weights not reaching 100', 'spec.strategy', { mirror: { steps: [{ setMirror: 10 }, { setWeight: 30 }] } }, 'spec.strategy.mirror.steps', /the last setWeight is 30/],
    ['setMirror in canary', 'spec.strategy', { canary: { steps: [{ setMirror: 10 }, { setWeight: 100 }] } }, 'spec.strategy.canary.steps[0].setMirror', 'setMirror is only allowed in the mirror strategy'],
    ['setWeight in abTest', 'spec.strategy', { abTest: { match: [{ headers: { a: 'b' } }], steps: [{ setWeight: 10 }] } }, 'spec.strategy.abTest.steps[0].setWeight', /setWeight does not apply/],
    ['blueGreen half switch', 'spec.strategy', { blueGreen: { steps: [{ setWeight: 50 }] } }, 'spec.strategy.blueGreen.steps[0].setWeight', /must be 0 or 100 \(got 50\)/],
    ['two keys in one step', 'spec.strategy', { canary: { steps: [{ setWeight: 100, approval: {} }] } }, 'spec.strategy.canary.steps[0]', /exactly one of .* \(found setWeight and approval\)/],
    ['unknown step', 'spec.strategy', { canary: { steps: [{ setweight: 100 }] } }, 'spec.strategy.canary.steps[0].setweight', 'unknown field "setweight"'],
    ['no steps', 'spec.strategy', { canary: { steps: [] } }, 'spec.strategy.canary.steps', 'must list at least one step'],
    ['no strategy', 'spec.strategy', {}, 'spec.strategy', 'needs exactly one of canary, abTest, mirror, blueGreen (found none)'],
    ['two strategies', 'spec.strategy', { canary: { steps: [{ setWeight: 100 }] }, mirror: { steps: [{ setMirror: 5 }] } }, 'spec.strategy', /found canary and mirror/],
    ['abTest without match', 'spec.strategy', { abTest: { match: [], steps: [{ approval: {} }] } }, 'spec.strategy.abTest.match', 'an abTest needs at least one match'],
    ['abTest empty block', 'spec.strategy', { abTest: { match: [{}], steps: [{ approval: {} }] } }, 'spec.strategy.abTest.match[0]', /at least one header, cookie or query parameter/],
    ['abTest uppercase header', 'spec.strategy', { abTest: { match: [{ headers: { 'X-Group': 'b' } }], steps: [{ approval: {} }] } }, 'spec.strategy.abTest.match[0].headers.X-Group', /lowercase/],
    ['abTest two match kinds', 'spec.strategy', { abTest: { match: [{ headers: { a: { exact: 'b', prefix: 'c' } } }], steps: [{ approval: {} }] } }, 'spec.strategy.abTest.match[0].headers.a', 'needs exactly one of exact, prefix or regex'],
    ['abTest bad regex', 'spec.strategy', { abTest: { match: [{ queryParams: { a: { regex: '(' } } }], steps: [{ approval: {} }] } }, 'spec.strategy.abTest.match[0].queryParams.a.regex', /not a valid regular expression/],
    ['duration in words', 'spec.strategy', { canary: { steps: [{ pause: { duration: '5 minutes' } }, { setWeight: 100 }] } }, 'spec.strategy.canary.steps[0].pause.duration', 'must be a duration such as 30s, 5m or 1h30m (got "5 minutes")'],
    ['duration without unit', 'spec.analysis', { interval: 30, metrics: [{ name: 'request-count', min: 1 }] }, 'spec.analysis.interval', 'must be a duration such as 30s, 5m or 1h30m (got 30)'],
    ['duration below 1s', 'spec.strategy', { canary: { steps: [{ pause: { duration: '500ms' } }, { setWeight: 100 }] } }, 'spec.strategy.canary.steps[0].pause.duration', 'minimum 1s (got 500ms)'],
    ['interval below 1s', 'spec.analysis', { interval: '999ms', metrics: [{ name: 'request-count', min: 1 }] }, 'spec.analysis.interval', 'minimum 1s (got 999ms)'],
    ['unknown metric', 'spec.analysis', { metrics: [{ name: 'custom-errors', max: 1 }] }, 'spec.analysis.metrics[0].name', /unknown metric "custom-errors": use a built-in .* or give a query/],
    ['metric without threshold', 'spec.analysis', { metrics: [{ name: 'request-count' }] }, 'spec.analysis.metrics[0]', 'metric "request-count" needs a min or a max threshold, or a judge'],
    ['min above max', 'spec.analysis', { metrics: [{ name: 'request-count', min: 10, max: 1 }] }, 'spec.analysis.metrics[0].min', 'min 10 is above max 1'],
    ['metric twice', 'spec.analysis', { metrics: [{ name: 'request-count', min: 1 }, { name: 'request-count', min: 2 }] }, 'spec.analysis.metrics[1].name', 'metric "request-count" is listed twice'],
    ['unknown template variable', 'spec.analysis', { metrics: [{ name: 'e', query: 'x{w="{{ targt }}"}', max: 1 }] }, 'spec.analysis.metrics[0].query', /unknown template variable \{\{ targt \}\}/],
    ['unclosed template', 'spec.analysis', { metrics: [{ name: 'e', query: 'x[{{ window ]', max: 1 }] }, 'spec.analysis.metrics[0].query', /never closed/],
    ['analysis with nothing to check', 'spec.analysis', undefined, 'spec.strategy.canary.steps[1].analysis', /has nothing to check/],
    ['analysis shorter than interval', 'spec.strategy', { canary: { steps: [{ analysis: { duration: '10s' } }, { setWeight: 100 }] } }, 'spec.strategy.canary.steps[0].analysis.duration', /shorter than spec.analysis.interval/],
    ['bad matcher', 'spec.alerts', [{ alertmanager: { matchers: ['severity=~"("'] } }], 'spec.alerts[0].alertmanager.matchers[0]', /is not an Alertmanager matcher: .*regular expression/],
    ['no matchers', 'spec.alerts', [{ alertmanager: { matchers: [] } }], 'spec.alerts[0].alertmanager.matchers', 'needs at least one matcher'],
    ['api version', 'apiVersion', 'canarybot/v2', 'apiVersion', 'must be canarybot/v1 (got "canarybot/v2")'],
    ['kind', 'kind', 'Pipeline', 'kind', 'must be ReleasePipeline or ReleaseTrain (got "Pipeline")'],
    ['name', 'metadata', { name: 'Reviews_1' }, 'metadata.name', /must be a Kubernetes name/],
    ['missing namespace', 'spec.target.namespace', undefined, 'spec.target.namespace', 'is required'],
    ['image with tag', 'spec.trigger.image', 'reg/app:1.2', 'spec.trigger.image', /without a tag or digest/],
    ['bad tag', 'spec.trigger.tag', 'latest', 'spec.trigger.tag', 'must be short-sha, sha, ref or variable:<NAME> (got "latest")'],
    ['bad project', 'spec.trigger.project', 'reviews', 'spec.trigger.project', /GitLab project path/],
    ['same subsets', 'spec.target.canary', { subset: 'stable', deployment: 'reviews-canary', container: 'reviews' }, 'spec.target.canary.subset', /must differ from stable.subset/],
    ['zero replicas', 'spec.target.canary', { subset: 'canary', deployment: 'reviews-canary', container: 'reviews', replicas: 0 }, 'spec.target.canary.replicas', 'must be at least 1 (got 0)'],
    ['empty cluster list', 'spec.target.cluster', [], 'spec.target.cluster', /kubeconfig context name/],
    ['access level', 'spec.approvals', { minAccessLevel: 'admin' }, 'spec.approvals.minAccessLevel', 'must be one of "developer", "maintainer", "owner" (got "admin")'],
    ['webhook url', 'spec.strategy', { canary: { steps: [{ webhook: { name: 'w', url: 'ftp://x' } }, { setWeight: 100 }] } }, 'spec.strategy.canary.steps[0].webhook.url', 'must be an http(s) URL (got "ftp://x")'],
    ['webhook bearer env', 'spec.strategy', { canary: { steps: [{ webhook: { name: 'w', url: 'http://x', bearerEnv: 'lower' } }, { setWeight: 100 }] } }, 'spec.strategy.canary.steps[0].webhook.bearerEnv', /environment variable name/],
    ['unknown spec field', 'spec.rollback', true, 'spec.rollback', 'unknown field "rollback"'],
    ['onFailure value', 'spec.onFailure', 'forget', 'spec.onFailure', 'must be one of rollback, keepPromoted, hold (got "forget")'],
    ['environment tier', 'spec.environment', { tier: 'prod' }, 'spec.environment.tier', 'must be one of production, staging, testing, development, other (got "prod")'],
    ['environment name', 'spec.environment', { name: '/payments' }, 'spec.environment.name', /must be a GitLab environment name.*\(got "\/payments"\)/],
    ['environment field', 'spec.environment', { url: 'x' }, 'spec.environment.url', 'unknown field "url"'],
    ['environment placeholder', 'spec.environment', { name: 'production/{{ region }}' }, 'spec.environment.name', 'unknown placeholder {{ region }} (known: {{ cluster }}, {{ namespace }}, {{ service }})'],
  ])('%s', (_name, path, value, errorPath, message) => {
    const { definition, errors } = parse(variant(path, value));

    expect(definition).toBeNull();
    const error = errors.find((e) => e.path === errorPath);
    expect(error, errors.map(formatDefinitionError).join('\n')).toBeDefined();
    if (typeof message === 'string') expect(error?.message).toBe(message);
    else expect(error?.message).toMatch(message);
    expect(error?.line).toBeGreaterThan(0);
  });
});

describe('parseDefinition: an environment name per cluster', () => {
  const withClusters = (name: string, clusters: string[]) => {
    const doc = base() as { spec: { target: Record<string, unknown>; environment?: unknown } };
    doc.spec.target.cluster = clusters;
    doc.spec.environment = { name };
    return parse(stringify(doc));
  };

  it('accepts {{ cluster }} where every cluster gives a GitLab name, and refuses a cluster that does not, naming it', () => {
    const good = withClusters('production/{{ cluster }}', ['eu-west', 'us-east']);
    const bad = withClusters('production/{{ cluster }}', ['eu-west', 'arn:aws:eks:eu-west-1:1:cluster/prod']);
    const fixed = withClusters('production', ['eu-west', 'arn:aws:eks:eu-west-1:1:cluster/prod']);

    expect(good.errors).toEqual([]);
    expect(good.definition?.environment).toEqual({ name: 'production/{{ cluster }}' });
    expect(bad.definition).toBeNull();
    expect(bad.errors).toEqual([
      expect.objectContaining({
        path: 'spec.environment.name',
        message: 'on cluster arn:aws:eks:eu-west-1:1:cluster/prod becomes "production/arn:aws:eks:eu-west-1:1:cluster/prod", which is not a GitLab environment name (letters, digits, spaces, - _ / $ { } . only)',
      }),
    ]);
    expect(fixed.errors).toEqual([]);
  });
});

describe('parseDefinition: locations', () => {
  const threeMistakes = [
    'apiVersion: canarybot/v1',
    'kind: ReleasePipeline',
    'metadata:',
    '  name: reviews',
    'spec:',
    '  trigger:',
    '    project: bookinfo/reviews',
    '    image: registry.example.com/bookinfo/reviews',
    '  target:',
    '    namespace: bookinfo',
    '    virtualService: reviews',
    '    host: reviews',
    '    stable: { subset: stable, deployment: reviews-primary }',
    '    canary: { subset: canary, deployment: reviews-canary, container: reviews }',
    '  strategy:',
    '    canary:',
    '      steps:',
    '        - setWeight: 120',
    '        - pause: { duration: 5 minutes }',
    '        - setWeight: 100',
    '  analysis:',
    '    metrics:',
    '      - name: custom-errors',
    '        max: 1',
    '',
  ].join('\n');

  it('reports the three mistakes, each with file:line:column and field path', () => {
    const { errors } = parseDefinition(threeMistakes, 'pipelines/reviews.yaml');

    expect(errors.map(formatDefinitionError)).toEqual([
      'pipelines/reviews.yaml:18:22: spec.strategy.canary.steps[0].setWeight: must be between 0 and 100 (got 120)',
      'pipelines/reviews.yaml:19:30: spec.strategy.canary.steps[1].pause.duration: must be a duration such as 30s, 5m or 1h30m (got "5 minutes")',
      'pipelines/reviews.yaml:23:15: spec.analysis.metrics[0].name: unknown metric "custom-errors": use a built-in (request-success-rate, request-duration-p99, request-count) or give a query',
    ]);
  });

  it('points an unknown field at its key and a missing field at its parent', () => {
    const text = threeMistakes
      .replace('        - setWeight: 120', '        - setWeight: 10')
      .replace('{ duration: 5 minutes }', '{ duration: 5m }')
      .replace('      - name: custom-errors', '      - name: request-count')
      .replace('    host: reviews\n', '    hots: reviews\n');

    const { errors } = parseDefinition(text, 'f.yaml');

    expect(errors.map(formatDefinitionError)).toEqual([
      'f.yaml:10:5: spec.target.host: is required',
      'f.yaml:12:5: spec.target.hots: unknown field "hots"',
    ]);
  });

  it('reports YAML syntax errors together with schema errors', () => {
    const text = threeMistakes.replace('  name: reviews', '  name: reviews\n  name: again');

    const { errors } = parseDefinition(text, 'f.yaml');

    expect(errors[0]).toMatchObject({ line: 5, column: 3, path: '', message: 'YAML: Map keys must be unique' });
    expect(errors.map((e) => e.path)).toContain('spec.strategy.canary.steps[0].setWeight');
  });

  it('reports a file that is not a mapping', () => {
    const { errors } = parseDefinition('- a\n- b\n', 'f.yaml');

    expect(errors.map(formatDefinitionError)).toEqual(['f.yaml:1:1: must be a mapping (got a list)']);
  });

  it('reports an empty file', () => {
    const { errors } = parseDefinition('', 'f.yaml');

    expect(errors.map((e) => e.message)).toContain('is required');
  });
});

describe('governance fields', () => {
  const base = (spec: string) => `apiVersion: canarybot/v1
kind: ReleasePipeline
metadata: { name: reviews }
spec:
  trigger: { project: bookinfo/reviews, branch: main, image: registry.example.com/bookinfo/reviews }
  target:
    namespace: bookinfo
    virtualService: reviews
    host: reviews
    stable: { subset: stable, deployment: reviews-primary }
    canary: { subset: canary, deployment: reviews-canary, container: reviews }
  strategy: { canary: { steps: [{ setWeight: 50 }, { setWeight: 100 }] } }
  analysis: { metrics: [{ name: request-success-rate, min: 99 }] }
${spec}`;

  it('reads onFailure: hold, holdTimeout and alerts[].onFire', () => {
    const { definition, errors } = parseDefinition(base(`  onFailure: hold
  holdTimeout: 30m
  alerts:
    - alertmanager: { matchers: ['service="reviews"'] }
      onFire: hold
`), 'reviews.yaml');

    expect(errors).toEqual([]);
    expect(definition).toMatchObject({ onFailure: 'hold', holdTimeoutMs: 1_800_000, alerts: [{ kind: 'alertmanager', onFire: 'hold' }] });
  });

  it('refuses an onFailure outside the one enum, naming the field', () => {
    const { definition, errors } = parseDefinition(base('  onFailure: pause\n'), 'reviews.yaml');

    expect(definition).toBeNull();
    expect(errors[0]).toMatchObject({ path: 'spec.onFailure' });
  });
});
