import { describe, expect, it } from 'vitest';
import { createRelease } from '../core/create-release.js';
import type { Effect } from '../core/effect.js';
import { CanarybotError } from '../core/errors.js';
import { ALL_STABLE } from '../core/traffic.js';
import { createMetrics } from '../metrics.js';
import { canaryDefinition, triggerFor } from '../../test/support/engine-definitions.js';
import { FakeClock, fakePorts } from '../../test/support/fakes.js';
import { createExecutor } from './executor.js';

const release = createRelease(triggerFor(canaryDefinition(), 'abc12345'), 'r1', 1_000);
const canary25 = { ...ALL_STABLE, weights: { stable: 75, canary: 25 } };

function setup() {
  const ports = fakePorts(new FakeClock(1_000));
  const metrics = createMetrics();
  const execute = createExecutor({ ports, metrics });
  return { ports, metrics, execute };
}

const unavailable = () => new CanarybotError('K8S_UNAVAILABLE', 'connection refused');

describe('effect executor', () => {
  // One attempt per effect: the core retries a transient outcome after a backoff (one retry layer).
  it.each([
    { name: 'ok at once', errors: [], outcome: { outcome: 'ok' }, calls: 1 },
    {
      name: 'transient: reported at once, not retried here',
      errors: [unavailable(), unavailable()],
      outcome: { outcome: 'transient', code: 'K8S_UNAVAILABLE', message: 'connection refused' },
      calls: 1,
    },
    {
      name: 'terminal at once',
      errors: [new CanarybotError('K8S_INVALID', 'bad route')],
      outcome: { outcome: 'terminal', code: 'K8S_INVALID', message: 'bad route' },
      calls: 1,
    },
  ])('set-traffic: $name', async ({ errors, outcome, calls }) => {
    const { ports, execute } = setup();
    ports.router.writeScript.failNext(...errors);
    const before = ports.router.writeScript.calls;

    const result = await execute(release, { type: 'set-traffic', traffic: canary25 });

    expect(result).toEqual({ type: 'effect-result', effect: 'set-traffic', ...outcome });
    expect(ports.router.writeScript.calls - before).toBe(calls);
  });

  it('turns an unknown error into a terminal INTERNAL outcome', async () => {
    const { ports, execute } = setup();
    ports.router.preflightScript.failNext(new Error('boom') as CanarybotError);

    const result = await execute(release, { type: 'preflight' });

    expect(result).toEqual({ type: 'effect-result', effect: 'preflight', outcome: 'terminal', code: 'INTERNAL', message: 'boom' });
  });

  it('preflight reports the stable image as it is before anything changes, when the port can tell', async () => {
    const { ports, execute } = setup();
    const old = 'registry.example.com/bookinfo/reviews:0ld00000';

    const unknown = await execute(release, { type: 'preflight' });
    ports.workloads.stableImage.set('reviews', old);
    const known = await execute(release, { type: 'preflight' });

    expect(unknown).toEqual({ type: 'effect-result', effect: 'preflight', outcome: 'ok' });
    expect(known).toEqual({ type: 'effect-result', effect: 'preflight', outcome: 'ok', stableImage: old });
  });

  it.each([
    { name: 'ready', readyAfterMs: 0, failing: false, outcome: { outcome: 'ok' } },
    { name: 'progressing', readyAfterMs: 5_000, failing: false, outcome: { outcome: 'progressing', message: expect.any(String) } },
    { name: 'failed', readyAfterMs: 0, failing: true, outcome: { outcome: 'terminal', code: 'ROLLOUT_FAILED', message: expect.stringContaining('ImagePullBackOff') } },
  ])('ensure-canary maps a $name rollout', async ({ readyAfterMs, failing, outcome }) => {
    const { ports, execute } = setup();
    ports.workloads.readyAfterMs = readyAfterMs;
    if (failing) ports.workloads.failingImages.add(release.image);

    const result = await execute(release, { type: 'ensure-canary', image: release.image, replicas: 2 });

    expect(result).toEqual({ type: 'effect-result', effect: 'ensure-canary', ...outcome });
    expect(ports.workloads.canaryReplicas.get('reviews')).toBe(2);
  });

  it('returns gate results with their figures and counts verdicts', async () => {
    const { ports, metrics, execute } = setup();
    ports.gates.verdicts.push('fail');
    const effect: Effect = { type: 'evaluate-gates', stepIndex: 2, check: 1, analysis: release.definition.analysis, metrics: [] };

    const result = await execute(release, effect);

    expect(result).toMatchObject({ type: 'gate-result', stepIndex: 2, check: { verdict: 'fail', measurements: [{ value: 91.2 }] } });
    expect(await metrics.registry.getSingleMetricAsString('canarybot_gate_verdicts_total')).toContain('verdict="fail"} 1');
  });

  it('turns a throwing gate evaluator into an error check, never a pass', async () => {
    const { ports, execute } = setup();
    ports.gates.evaluate = async () => {
      throw new Error('evaluator bug');
    };

    const result = await execute(release, { type: 'evaluate-gates', stepIndex: 2, check: 1, analysis: release.definition.analysis, metrics: [] });

    expect(result).toMatchObject({ type: 'gate-result', check: { verdict: 'error' } });
  });

  it('swallows report and notify failures', async () => {
    const { ports, execute } = setup();
    ports.reporter.script.failNext(new CanarybotError('GITLAB_UNAVAILABLE', '502'));
    ports.notifier.script.failNext(new CanarybotError('CHAT_UNAVAILABLE', '503'));

    const reported = await execute(release, { type: 'report', event: 'started' });
    const notified = await execute(release, { type: 'notify', event: 'started' });

    expect(reported).toBeNull();
    expect(notified).toBeNull();
  });

  it('sets the canary weight gauge after a successful traffic write', async () => {
    const { metrics, execute } = setup();

    await execute(release, { type: 'set-traffic', traffic: canary25 });

    expect(await metrics.registry.getSingleMetricAsString('canarybot_canary_weight_percent')).toContain('cluster="default"} 25');
  });
});
