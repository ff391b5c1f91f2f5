import { describe, expect, it } from 'vitest';
import { createRelease } from '../../src/core/create-release.js';
import type { Release } from '../../src/core/release.js';
import { boardRelease, releasePage, waitView } from '../../src/engine/board-view.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';

const T0 = Date.UTC(2026, 0, 1, 12);

function release(overrides: Partial<Release> = {}): Release {
  const base = createRelease(triggerFor(canaryDefinition({ name: 'reviews' }), 'abcd1234', { projectId: 1, iid: 7 }), 'rel-1', T0);
  return {
    ...base,
    mr: { projectId: 1, iid: 7, url: 'https://gitlab.example.com/shop/reviews/-/merge_requests/7', authorUsername: 'alice' },
    pipeline: { id: 42, url: 'https://gitlab.example.com/shop/reviews/-/pipelines/42' },
    ...overrides,
  };
}

describe('boardRelease', () => {
  it('says the step n of m, the traffic with baseline and mirror, and the last check without the judge report', () => {
    const row = boardRelease(
      release({
        state: 'progressing',
        stepIndex: 2,
        weights: { stable: 80, canary: 10, baseline: 10 },
        traffic: { weights: { stable: 80, canary: 10, baseline: 10 }, mirrorPercent: 5, abMatch: null, preview: null },
        gates: [
          { stepIndex: 2, check: { verdict: 'pass', at: T0 + 60_000, measurements: [{ name: 'request-success-rate', verdict: 'pass', value: 99.5, threshold: '>= 99' }] } },
        ],
      }),
    );

    expect(row).toMatchObject({ strategy: 'canary', step: 2, stepCount: 5, stepKind: 'analysis', traffic: { stable: 80, canary: 10, baseline: 10, mirror: 5 } });
    expect(row.lastGate).toEqual({
      stepIndex: 2,
      verdict: 'pass',
      at: '2026-01-01T12:01:00.000Z',
      measurements: [{ name: 'request-success-rate', verdict: 'pass', value: 99.5, threshold: '>= 99' }],
    });
    expect(row.wait).toBeNull();
  });

  it('links the MR, pipeline and commit from the MR URL, Grafana and Jaeger over the release span', () => {
    const row = boardRelease(release({ updatedAt: T0 + 120_000 }), { grafanaUrl: 'https://grafana.example.com/d/x/', jaegerUrl: 'https://jaeger.example.com' });

    expect(row.links).toEqual({
      mergeRequest: 'https://gitlab.example.com/shop/reviews/-/merge_requests/7',
      pipeline: 'https://gitlab.example.com/shop/reviews/-/pipelines/42',
      commit: 'https://gitlab.example.com/shop/reviews/-/commit/abcd12340000000000000000',
      configCommit: null,
      grafana: `https://grafana.example.com/d/x/?var-namespace=bookinfo&var-service=reviews&var-workload=reviews-canary&from=${T0}&to=${T0 + 120_000}`,
      jaeger: `https://jaeger.example.com/search?service=reviews-canary.bookinfo&start=${T0 * 1000}&end=${(T0 + 120_000) * 1000}`,
    });
  });

  it('links the config repository commit the GitOps write-back recorded', () => {
    const gitops = { repository: 'platform/config', branch: 'main', pins: [], warnings: [], mergeRequest: null, revert: null, revertRefused: null, sync: null };
    const promoted = release({ gitops: { ...gitops, commit: { sha: 'f00d', url: 'https://gitlab.example.com/platform/config/-/commit/f00d' } } });

    expect(boardRelease(promoted).links.configCommit).toBe('https://gitlab.example.com/platform/config/-/commit/f00d');
  });
});

describe('waitView', () => {
  it('renders the pinned generic wait as it is stored', () => {
    const held = { ...release(), wait: { kind: 'window', sentence: 'Outside the release window.', since: T0, until: T0 + 3_600_000, link: 'https://wiki.example.com/windows' } };

    expect(waitView(held)).toEqual({
      kind: 'window',
      sentence: 'Outside the release window.',
      since: '2026-01-01T12:00:00.000Z',
      until: '2026-01-01T13:00:00.000Z',
      link: 'https://wiki.example.com/windows',
    });
  });

  it('says who may approve while an approval step waits and nothing set a wait', () => {
    const waiting = release({ state: 'awaiting-approval', stepIndex: 3, stepStartedAt: T0 + 5_000 });

    expect(waitView(waiting)).toEqual({
      kind: 'approval',
      sentence: 'Waiting for approval of step 4 by a maintainer or higher of the project (not the MR author @alice).',
      since: '2026-01-01T12:00:05.000Z',
      until: null,
      link: 'https://gitlab.example.com/shop/reviews/-/merge_requests/7',
    });
  });
});

describe('releasePage', () => {
  it('adds the timeline samples and keeps the judge report of the last check', () => {
    const judge = { score: 40 } as never;
    const page = releasePage(
      release({
        timeline: [{ at: T0 + 1_000, canaryWeight: 10, successRate: 99.9 }],
        gates: [{ stepIndex: 2, check: { verdict: 'fail', at: T0 + 2_000, measurements: [{ name: 'judge', verdict: 'fail', value: 40, threshold: '>= 75', judge }] } }],
      }),
    );

    expect(page.timeline).toEqual([{ at: '2026-01-01T12:00:01.000Z', canaryWeight: 10, successRate: 99.9 }]);
    expect(page.lastGate?.measurements[0]?.judge).toBe(judge);
    expect(page.steps).toHaveLength(5);
    expect(page.audit[0]?.action).toBe('created');
  });
});
