import { describe, expect, it } from 'vitest';
import type { Step } from '../../src/core/definition.js';
import type { GateRecord, Release } from '../../src/core/release.js';
import { createMetrics } from '../../src/metrics.js';
import { refreshReleaseGauges, releaseGaugeSamples } from '../../src/server/release-gauges.js';
import { releaseRecord, reviewsDefinition } from '../support/release-fixture.js';

const STEPS: Step[] = [
  { kind: 'setWeight', weight: 20 },
  { kind: 'analysis' },
  { kind: 'setWeight', weight: 50 },
  { kind: 'analysis', metrics: [{ name: 'request-success-rate', min: 99.5 }, { name: 'errors-per-minute', query: 'x', max: 3 }] },
];

function analysed(stepIndex: number, measurements: Array<[string, number | null]>): GateRecord {
  return {
    stepIndex,
    check: { verdict: 'pass', at: 1, measurements: measurements.map(([name, value]) => ({ name, value, verdict: 'pass', threshold: '' })) },
  };
}

function release(overrides: Partial<Release>): Release {
  return releaseRecord({ definition: reviewsDefinition({ strategy: { kind: 'canary', steps: STEPS } }), ...overrides });
}

describe('releaseGaugeSamples', () => {
  it.each([
    ['no release: no series', [], 0, [], []],
    ['a pending release: its state only, no analysis yet', [release({ state: 'pending' })], 1, [], []],
    [
      'the last check of the first analysis step: its values, with the spec thresholds',
      [release({ state: 'progressing', gates: [analysed(1, [['request-success-rate', 99.9], ['request-duration-p99', 212]])] })],
      1,
      [['request-success-rate', 99.9], ['request-duration-p99', 212]],
      [['request-success-rate', 'min', 99], ['request-duration-p99', 'max', 500]],
    ],
    [
      'a later step with its own metrics: the newest check wins, step thresholds apply, no data is no value',
      [
        release({
          state: 'rolled-back',
          gates: [analysed(1, [['request-success-rate', 99.9]]), analysed(3, [['request-success-rate', 97.2], ['errors-per-minute', null], ['alert:HighErrorRate', 1]])],
        }),
      ],
      1,
      [['request-success-rate', 97.2]],
      [['request-success-rate', 'min', 99.5], ['errors-per-minute', 'max', 3]],
    ],
  ] as const)('%s', (_, newest, releases, values, thresholds) => {
    const samples = releaseGaugeSamples([...newest]);

    expect(samples.status).toHaveLength(12 * releases);
    expect(samples.status.filter((sample) => sample.value === 1).map((sample) => sample.state)).toEqual(newest.map((r) => r.state));
    expect(samples.values.map((sample) => [sample.metric, sample.value])).toEqual(values);
    expect(samples.thresholds.map((sample) => [sample.metric, sample.bound, sample.value])).toEqual(thresholds);
    for (const sample of [...samples.status, ...samples.values, ...samples.thresholds]) {
      expect(sample).toMatchObject({ service: 'reviews', namespace: 'bookinfo', cluster: 'default' });
    }
  });
});

describe('refreshReleaseGauges', () => {
  it('keeps one series per service and state however many releases ended, and follows the newest', async () => {
    const metrics = createMetrics({ build: { version: '1.2.3', revision: 'abc', nodejsVersion: 'v20.0.0' } });
    const history: Release[] = [];
    const reader = {
      list: async (query?: { service?: string; limit?: number }) =>
        history.filter((r) => r.service === query?.service).slice(-1).reverse(),
    };

    for (let i = 0; i < 50; i++) {
      history.push(release({ id: `rel-${i}`, state: i % 2 === 0 ? 'succeeded' : 'rolled-back' }));
      await refreshReleaseGauges(metrics, reader, ['reviews', 'ratings']);
    }
    history.push(release({ id: 'rel-live', state: 'awaiting-approval', gates: [analysed(1, [['request-success-rate', 99.1]])] }));
    await refreshReleaseGauges(metrics, reader, ['reviews', 'ratings']);
    const text = await metrics.registry.metrics();

    expect(text.match(/^canarybot_release_status\{/gm)).toHaveLength(12);
    expect(text).toMatch(/^canarybot_release_status\{service="reviews",namespace="bookinfo",cluster="default",state="awaiting-approval"\} 1$/m);
    expect(text).toMatch(/^canarybot_release_status\{service="reviews",namespace="bookinfo",cluster="default",state="rolled-back"\} 0$/m);
    expect(text).toMatch(/^canarybot_analysis_metric_value\{service="reviews",namespace="bookinfo",cluster="default",metric="request-success-rate"\} 99.1$/m);
    expect(text).toMatch(/^canarybot_analysis_metric_threshold\{service="reviews",namespace="bookinfo",cluster="default",metric="request-success-rate",bound="min"\} 99$/m);
    expect(text).toMatch(/^canarybot_build_info\{version="1.2.3",revision="abc",nodejs_version="v20.0.0"\} 1$/m);
  });
});
