import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/core/gate.js';
import type { Release, TimelinePoint } from '../../src/core/release.js';
import { MAX_CHART_CHARS } from '../../src/gitlab/render-progress-chart.js';
import { renderProgressNote } from '../../src/gitlab/render-progress-note.js';
import { T0, release } from './release-fixture.js';

const MIN = 60_000;
const links = { publicUrl: 'https://canarybot.example.com/', grafanaUrl: 'https://grafana.example.com', jaegerUrl: 'https://jaeger.example.com' };

function check(at: number, successRate: number, p99: number): CheckResult {
  const rateOk = successRate >= 99;
  const p99Ok = p99 <= 500;
  return {
    verdict: rateOk && p99Ok ? 'pass' : 'fail',
    at,
    measurements: [
      { name: 'request-success-rate', verdict: rateOk ? 'pass' : 'fail', value: successRate, threshold: '>= 99' },
      { name: 'request-duration-p99', verdict: p99Ok ? 'pass' : 'fail', value: p99, threshold: '<= 500 ms' },
    ],
  };
}

/** One sample every 4 s: long enough that the chart must be downsampled. */
function timeline(until: number, weightAt: (t: number) => number, rateAt: (t: number) => number | null): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  for (let t = T0; t <= until; t += 4000) points.push({ at: t, canaryWeight: weightAt(t), successRate: rateAt(t) });
  return points;
}

function promoted(): Release {
  const end = T0 + 20 * MIN;
  return release({
    state: 'succeeded',
    stepIndex: 5,
    stepStartedAt: T0 + 12 * MIN,
    weights: { stable: 100, canary: 0 },
    gates: [
      { stepIndex: 1, check: check(T0 + 1.5 * MIN, 99.8, 212) },
      { stepIndex: 1, check: check(T0 + 2 * MIN, 99.9, 230.25) },
      { stepIndex: 1, check: check(T0 + 2.5 * MIN, 99.95, 198) },
      {
        stepIndex: 4,
        check: { verdict: 'pass', at: T0 + 11 * MIN, measurements: [{ name: 'webhook:smoke', verdict: 'pass', value: 200, threshold: '2xx', message: 'ok token=hook-s3cr3t' }] },
      },
    ],
    approvals: [{ releaseId: 'rel-reviews-0001', stepIndex: 3, actor: { username: 'alice', userId: 7, channel: 'gitlab' }, at: T0 + 10 * MIN }],
    audit: [
      { at: T0 + 1 * MIN, actor: null, action: 'step', stepIndex: 0 },
      { at: T0 + 1.25 * MIN, actor: null, action: 'step', stepIndex: 1 },
      { at: T0 + 3 * MIN, actor: null, action: 'step', stepIndex: 2 },
      { at: T0 + 3.5 * MIN, actor: null, action: 'step', stepIndex: 3 },
      { at: T0 + 10 * MIN, actor: { username: 'alice', channel: 'gitlab' }, action: 'approve', stepIndex: 3 },
      { at: T0 + 10.5 * MIN, actor: null, action: 'step', stepIndex: 4 },
      { at: T0 + 18 * MIN, actor: null, action: 'promoting', stepIndex: 5 },
    ],
    timeline: timeline(
      end,
      (t) => (t < T0 + MIN ? 0 : t < T0 + 3 * MIN ? 5 : t < T0 + 12 * MIN ? 25 : t < T0 + 18 * MIN ? 100 : 0),
      (t) => (t < T0 + MIN ? null : 99 + ((t / 4000) % 10) / 10),
    ),
    updatedAt: end,
    endedAt: end,
  });
}

function rolledBack(): Release {
  const end = T0 + 4 * MIN;
  return release({
    id: 'rel-reviews-0002',
    state: 'rolled-back',
    stepIndex: 1,
    stepStartedAt: T0 + 1.25 * MIN,
    rollbackOutcome: 'rolled-back',
    reason: 'Analysis failed at step 2: request-success-rate was 97.2 against >= 99.',
    gates: [
      { stepIndex: 1, check: check(T0 + 1.75 * MIN, 99.6, 240) },
      { stepIndex: 1, check: check(T0 + 2.25 * MIN, 97.2, 260) },
    ],
    audit: [
      { at: T0 + 1 * MIN, actor: null, action: 'step', stepIndex: 0 },
      { at: T0 + 1.25 * MIN, actor: null, action: 'step', stepIndex: 1 },
    ],
    timeline: timeline(end, (t) => (t < T0 + MIN || t > T0 + 2.3 * MIN ? 0 : 5), (t) => (t < T0 + 2 * MIN ? 99.6 : 97.2)),
    updatedAt: end,
    endedAt: end,
  });
}

function mermaidBlock(note: string): string {
  return /```mermaid[\s\S]*?```/.exec(note)?.[0] ?? '';
}

describe('renderProgressNote', () => {
  it('renders a promoted release', async () => {
    const note = renderProgressNote(promoted(), links);

    await expect(note).toMatchFileSnapshot('__snapshots__/progress-note-promoted.md');
  });

  it('renders a rolled-back release with its reason and the figure', async () => {
    const note = renderProgressNote(rolledBack(), links);

    expect(note).toContain('**Why:** Analysis failed at step 2');
    expect(note).toContain('97.2');
    await expect(note).toMatchFileSnapshot('__snapshots__/progress-note-rolled-back.md');
  });

  it('starts with the marker and links to the release record', () => {
    const note = renderProgressNote(rolledBack(), links);

    expect(note.startsWith('<!-- canarybot:release:rel-reviews-0002 -->\n')).toBe(true);
    expect(note).toContain('(https://canarybot.example.com/releases/rel-reviews-0002)');
  });

  it("plots the new version's share: a promotion stays at 100 %, a rollback falls to 0", () => {
    const share = (note: string): number[] => JSON.parse(/^ {2}line (\[.*\])$/m.exec(mermaidBlock(note))![1]!) as number[];
    const rolledBack = { ...promoted(), state: 'rolled-back' as const, audit: promoted().audit.filter((entry) => entry.action !== 'promoting') };

    const promotedShare = share(renderProgressNote(promoted(), links));
    const rolledBackShare = share(renderProgressNote(rolledBack, links));

    expect(mermaidBlock(renderProgressNote(promoted(), links))).toContain('title "Traffic on the new version % (first line)');
    expect(promotedShare.slice(-6)).toEqual([100, 100, 100, 100, 100, 100]);
    expect(rolledBackShare.slice(-5)).toEqual([0, 0, 0, 0, 0]);
    expect(promotedShare.slice(0, 30)).toEqual(rolledBackShare.slice(0, 30));
  });

  it('keeps the Mermaid block under 2,000 characters for a long release', () => {
    const long = promoted();
    long.timeline = timeline(T0 + 6 * 60 * MIN, (t) => Math.floor((t - T0) / MIN) % 100, () => 99.123456);

    const block = mermaidBlock(renderProgressNote(long, links));

    expect(block).toContain('xychart-beta');
    expect(block.length).toBeLessThan(MAX_CHART_CHARS);
  });

  it('asks for approval with the exact command while awaiting approval', () => {
    const waiting = release({ state: 'awaiting-approval', stepIndex: 3, weights: { stable: 75, canary: 25 } });

    const note = renderProgressNote(waiting);

    expect(note).toContain('/canary approve');
    expect(note).toContain('Approval needed** for step 4 (canary at 25 %)');
    expect(note).toContain('users `carol`');
    expect(note).not.toContain('@carol');
    expect(note).toContain('may not approve their own release');
    expect(note).not.toContain('/api/releases/');
    expect(note).not.toContain('mermaid');
  });

  it('never renders secrets, webhook URLs or webhook bodies', () => {
    const note = renderProgressNote(promoted(), links);

    expect(note).not.toContain('hook-s3cr3t');
    expect(note).not.toContain('hooks.example.com');
    expect(note).not.toContain('SMOKE_TOKEN');
  });

  it('keeps data from breaking the table', () => {
    const odd = rolledBack();
    odd.gates = [{ stepIndex: 1, check: { verdict: 'fail', at: T0, measurements: [{ name: 'a|b', verdict: 'fail', value: null, threshold: '>= 1' }] } }];

    const note = renderProgressNote(odd);

    expect(note).toContain('a\\|b no data (>= 1) ❌');
  });
});

describe('renderProgressNote failure figure', () => {
  it('adds the figure when the reason does not name it', () => {
    const failed = release({
      state: 'failed',
      stepIndex: 1,
      reason: 'The analysis step failed.',
      gates: [{ stepIndex: 1, check: { verdict: 'fail', at: T0, measurements: [{ name: 'request-duration-p99', verdict: 'fail', value: 812.5, threshold: '<= 500 ms' }] } }],
    });

    const note = renderProgressNote(failed);

    expect(note).toContain('**Figure:** `request-duration-p99` was 812.5 against <= 500 ms.');
  });
});
