import { describe, expect, it } from 'vitest';
import { notificationText } from '../../src/chatops/notification-text.js';
import { releaseDetail } from '../../src/engine/release-view.js';
import type { Release } from '../../src/core/release.js';
import { renderProgressNote } from '../../src/gitlab/render-progress-note.js';
import { reviewsAnalysis, reviewsTarget } from '../support/release-fixture.js';
import { JUDGED_METRICS, judgeMeasurement } from '../support/judge-measurement.js';
import { definition, release, T0 } from './release-fixture.js';

const MIN = 60_000;

/** A release rolled back at step 2 because its canary's p99 was 20 % above the baseline's. */
async function judgedRollback(): Promise<Release> {
  const def = definition({
    target: reviewsTarget({ baseline: { deployment: 'reviews-baseline', subset: 'baseline' } }),
    analysis: reviewsAnalysis({ metrics: JUDGED_METRICS, judge: { stepMs: 10_000, thresholds: { pass: 95, marginal: 75 }, groups: { errors: 60, latency: 40 } } }),
  });
  const base = release({ definition: def, state: 'progressing', stepIndex: 1, stepStartedAt: T0, trafficChangedAt: T0, weights: { stable: 90, canary: 5, baseline: 5 } });
  const judge = await judgeMeasurement(base, 120, T0 + 5 * MIN);
  return {
    ...base,
    state: 'rolled-back',
    weights: { stable: 100, canary: 0 },
    reason: `judge ${judge.message} at step 2 (analysis, canary at 5 %)`,
    gates: [{ stepIndex: 1, check: { verdict: 'fail', at: T0 + 5 * MIN, measurements: [{ name: 'request-success-rate', verdict: 'pass', value: 99.9, threshold: '>= 99' }, judge] } }],
    endedAt: T0 + 6 * MIN,
    updatedAt: T0 + 6 * MIN,
  };
}

describe('the judge in the report', () => {
  it('shows per metric the classification, interval, estimate and effect size, the group scores and the summary score', async () => {
    const note = renderProgressNote(await judgedRollback());

    expect(note).toContain('**🧮 Judge** (step 2): score **60** of 100, ❌ fails (pass ≥ 95, marginal ≥ 75) · canary against `reviews-baseline`, one sample every 10 s over 295 s');
    expect(note).toContain('| Metric | Group | Classification | Shift (canary − baseline) | 98 % interval | Effect size | Mean canary / baseline (samples) |');
    expect(note).toMatch(/\| `request-duration-p99` \| latency \| ❌ high \| \+20(\.\d+)? \| \[1\d(\.\d+)?, 2\d(\.\d+)?\] \| meanRatio 1\.2 \| 120(\.\d+)? \/ 100(\.\d+)? \(30 \/ 30\) \|/);
    expect(note).toContain('| `request-success-rate` | errors | ✅ pass |');
    expect(note).toContain('Groups: errors 100 (weight 60) · latency 0 (weight 40)');
    expect(note).toMatch(/\*\*Why:\*\* judge score 60 against reviews-baseline \(fails, score >= 95 \(marginal >= 75\)\): request-duration-p99 high \(shift 20/);
    expect(note).not.toContain('histogram_quantile');
    expect(note).toMatchSnapshot();
  });

  it('says the score in chat', async () => {
    const rolledBack = await judgedRollback();

    const text = notificationText(rolledBack, 'rolled-back', { flavor: 'slack' });

    expect(text).toMatch(/^:rewind: \*reviews\* \(bookinfo on default\) was rolled back to stable: judge score 60 .*\. Judge score 60 \(pass >= 95, marginal >= 75\) against reviews-baseline\.$/);
  });

  it('carries the same figures in /api/releases/:id', async () => {
    const detail = releaseDetail(await judgedRollback());

    expect(detail.judge).toMatchObject({ score: 60, classification: 'fail', against: 'reviews-baseline', stepIndex: 1, verdict: 'fail', thresholds: { pass: 95, marginal: 75 } });
    const latency = detail.judge!.metrics.find((m) => m.name === 'request-duration-p99')!;
    expect(latency).toMatchObject({ classification: 'high', group: 'latency', measure: 'meanRatio', confidence: 0.98 });
    expect(latency.interval![0]).toBeGreaterThan(10);
    expect(detail.judge!.queries['request-duration-p99']!.baseline).toContain('destination_workload="reviews-baseline"');
    expect(detail.gates[0]!.measurements[1]!.judge).toEqual(detail.judge && (({ stepIndex: _s, at: _a, verdict: _v, ...rest }) => rest)(detail.judge));
    expect(detail.weights).toEqual({ stable: 100, canary: 0 });
  });
});
