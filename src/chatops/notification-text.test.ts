import { describe, expect, it } from 'vitest';
import { releaseFixture } from '../../test/chatops/release-fixture.js';
import type { ReleaseEventKind } from '../core/effect.js';
import { announcedEvent, notificationText } from './notification-text.js';

const release = releaseFixture({
  id: 'r1',
  stepIndex: 1,
  reason: 'request-success-rate 91.2 below 99.',
  gates: [
    {
      stepIndex: 1,
      check: {
        verdict: 'fail',
        at: 0,
        measurements: [
          { name: 'request-success-rate', verdict: 'fail', value: 91.23456, threshold: '>= 99' },
          { name: 'request-duration-p99', verdict: 'pass', value: 120, threshold: '<= 500 ms' },
        ],
      },
    },
  ],
});

describe('notificationText', () => {
  it.each<[ReleaseEventKind, RegExp]>([
    ['started', /^:rocket: Release of \*reviews\* \(bookinfo on default\) started: `registry.example.com\/bookinfo\/reviews:abc12345` for MR <https:\/\/gitlab.example.com\/.*\|!3>\./],
    ['approval-needed', /waiting for approval at step 2 \(canary at 25 %\)\. Type `\/canary approve reviews`/],
    ['gate-failed', /A gate failed for \*reviews\* .* at step 2: request-success-rate 91\.235 \(threshold >= 99, fail\)\.$/],
    ['rolled-back', /rolled back to stable: request-success-rate 91\.2 below 99\.$/],
    ['aborted', /aborted and rolled back/],
    ['promoted', /:white_check_mark: \*reviews\* .* promoted: `registry.example.com\/bookinfo\/reviews:abc12345` is now stable\./],
  ])('%s (slack)', (event, expected) => {
    expect(notificationText(release, event, { flavor: 'slack' })).toMatch(expected);
  });

  it.each<ReleaseEventKind>(['step-started', 'progress', 'approved', 'paused', 'resumed', 'rolling-back', 'promoting'])('%s is not announced', (event) => {
    expect(notificationText(release, event, { flavor: 'slack' })).toBeNull();
  });

  it('uses Mattermost markdown and links the release record', () => {
    const text = notificationText(release, 'started', { flavor: 'mattermost', publicUrl: 'https://canarybot.example.com/' });

    expect(text).toContain('**reviews**');
    expect(text).toContain('[!3](https://gitlab.example.com/bookinfo/reviews/-/merge_requests/3)');
    expect(text).toContain('[details](https://canarybot.example.com/releases/r1)');
  });

  it('names the missing figure when a gate had no data', () => {
    const noData = releaseFixture({
      gates: [{ stepIndex: 0, check: { verdict: 'inconclusive', at: 0, measurements: [{ name: 'request-success-rate', verdict: 'inconclusive', value: null, threshold: '>= 99' }] } }],
    });

    expect(notificationText(noData, 'gate-failed', { flavor: 'slack' })).toContain('request-success-rate no data (threshold >= 99, inconclusive)');
  });
});

describe('announcedEvent', () => {
  const failing = { stepIndex: 1, check: { verdict: 'fail' as const, at: 0, measurements: [{ name: 'request-success-rate', verdict: 'fail' as const, value: 91.2, threshold: '>= 99' }] } };
  const passing = { stepIndex: 1, check: { verdict: 'pass' as const, at: 0, measurements: [{ name: 'request-success-rate', verdict: 'pass' as const, value: 99.9, threshold: '>= 99' }] } };

  it.each([
    ['a rollback a failed check caused is a failed gate', releaseFixture({ state: 'rolling-back', stepIndex: 1, gates: [failing], reason: 'request-success-rate 91.2 (>= 99) at step 2' }), 'rolling-back', 'gate-failed'],
    ['a rollback after passing checks (alert) is told when it ends', releaseFixture({ state: 'rolling-back', stepIndex: 1, gates: [passing], reason: 'alert HighErrorRate fired' }), 'rolling-back', null],
    ['a failed check of an earlier step is not the cause', releaseFixture({ state: 'rolling-back', stepIndex: 3, gates: [failing], reason: 'request-success-rate 91.2 (>= 99) at step 2' }), 'rolling-back', null],
    ['an abort after a failed check is not a failed gate', releaseFixture({ state: 'rolling-back', stepIndex: 1, gates: [failing], reason: 'aborted by @alice: looks wrong' }), 'rolling-back', null],
    ['promoted stays promoted', releaseFixture(), 'promoted', 'promoted'],
    ['progress is not told', releaseFixture(), 'progress', null],
  ] as const)('%s', (_name, release, event, expected) => {
    expect(announcedEvent(release, event)).toBe(expected);
  });
});
