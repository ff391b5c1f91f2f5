// A blocked rollback is visible where on-call looks: /metrics (canarybot_rollback_blocked) and
// /readyz?verbose (the sentence), without changing readiness; the MR note and chat say it too.

import { describe, expect, it } from 'vitest';
import { notificationText } from '../../src/chatops/notification-text.js';
import type { Release } from '../../src/core/release.js';
import { renderProgressNote } from '../../src/gitlab/render-progress-note.js';
import { createMetrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { recordWaits, releaseWaits, waitDetails } from '../../src/server/release-waits.js';
import { readinessRoute } from '../../src/server/routes/readiness.js';
import { T0, release } from '../gitlab/release-fixture.js';

const BLOCKED = {
  kind: 'rollback-blocked',
  sentence: 'The rollback is blocked: traffic could not be put back on stable, so the canary may still receive traffic (patch VirtualService reviews: HTTP 503 (K8S_UNAVAILABLE)); retrying with backoff, 3 tries failed so far.',
  since: T0,
  until: null,
  link: null,
};

const releases: Release[] = [
  release({ id: 'rel-blocked', state: 'rolling-back', phase: 'traffic', wait: BLOCKED }),
  release({ id: 'rel-retry', state: 'progressing', phase: 'traffic', wait: { ...BLOCKED, kind: 'retry', sentence: 'Waiting for Kubernetes: …' } }),
  release({ id: 'rel-moving', state: 'progressing', phase: 'settle' }),
  // An ended release never counts, whatever its record says.
  release({ id: 'rel-ended', state: 'failed', phase: 'done', wait: BLOCKED }),
];
const reader = { list: async () => releases };

describe('release waits', () => {
  it('are counted on /metrics by kind, blocked rollbacks in their own gauge', async () => {
    const metrics = createMetrics();
    recordWaits(metrics, await releaseWaits(reader));
    const text = await metrics.registry.metrics();
    expect(text).toContain('canarybot_rollback_blocked 1');
    expect(text).toContain('canarybot_releases_waiting{kind="rollback-blocked"} 1');
    expect(text).toContain('canarybot_releases_waiting{kind="retry"} 1');

    recordWaits(metrics, []);
    const after = await metrics.registry.metrics();
    expect(after).toContain('canarybot_rollback_blocked 0');
    expect(after).not.toContain('kind="retry"');
  });

  it('are listed by /readyz?verbose with their sentence, and do not change readiness', async () => {
    const app = await buildApp({ logger: false, routes: [readinessRoute({ checks: () => [{ name: 'redis', probe: async () => true }], details: () => waitDetails(reader) })] });
    const verbose = await app.inject({ method: 'GET', url: '/readyz?verbose' });
    const plain = await app.inject({ method: 'GET', url: '/readyz' });
    await app.close();
    expect(verbose.statusCode).toBe(200);
    const body = verbose.json() as { ok: boolean; rollbacksBlocked: Array<{ id: string; sentence: string }>; waiting: Array<{ id: string }> };
    expect(body.ok).toBe(true);
    expect(body.rollbacksBlocked).toEqual([expect.objectContaining({ id: 'rel-blocked', service: 'reviews', kind: 'rollback-blocked', sentence: BLOCKED.sentence, since: T0 })]);
    expect(body.waiting.map((w) => w.id)).toEqual(['rel-retry']);
    expect(plain.json()).toEqual({ ok: true, checks: [{ name: 'redis', ok: true }] });
  });

  it('a failing store is reported as detailsError, readiness stands', async () => {
    const app = await buildApp({ logger: false, routes: [readinessRoute({ checks: () => [], details: () => waitDetails({ list: () => Promise.reject(new Error('redis down')) }) })] });
    const response = await app.inject({ method: 'GET', url: '/readyz?verbose=1' });
    await app.close();
    expect(response.json()).toEqual({ ok: true, checks: [], detailsError: 'redis down' });
  });

  it('the MR note and chat say the sentence', () => {
    const blocked = releases[0] as Release;
    expect(renderProgressNote(blocked)).toContain(`⏳ **Waiting since 10:00 UTC:** ${BLOCKED.sentence}`);
    expect(renderProgressNote({ ...blocked, state: 'rolled-back', wait: null })).not.toContain('⏳');
    expect(notificationText(blocked, 'waiting', { flavor: 'slack' })).toBe(`:hourglass: *reviews* (${blocked.namespace} on ${blocked.cluster}): ${BLOCKED.sentence.replace(/\.$/, '')}.`);
    expect(notificationText({ ...blocked, wait: null }, 'waiting', { flavor: 'slack' })).toBeNull();
  });
});
