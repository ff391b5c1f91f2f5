import { describe, expect, it } from 'vitest';
import type { ReleaseState } from '../../src/core/release.js';
import { commitStatusFor, desiredWriteback } from '../../src/gitlab/writeback-state.js';
import { release } from './release-fixture.js';

describe('commit status and deployment per release state (DESIGN §9)', () => {
  const table: [ReleaseState, string, string][] = [
    ['pending', 'pending', 'running'],
    ['deploying', 'running', 'running'],
    ['progressing', 'running', 'running'],
    ['paused', 'running', 'running'],
    ['awaiting-approval', 'running', 'running'],
    ['promoting', 'running', 'running'],
    ['rolling-back', 'running', 'running'],
    ['succeeded', 'success', 'success'],
    ['rolled-back', 'failed', 'failed'],
    ['failed', 'failed', 'failed'],
    ['aborted', 'canceled', 'canceled'],
    ['superseded', 'canceled', 'canceled'],
  ];

  it.each(table)('%s → status %s, deployment %s', (state, status, deployment) => {
    const desired = desiredWriteback(release({ state, stepIndex: 2 }), {});

    expect(commitStatusFor(release({ state }))).toBe(status);
    expect(desired.status.state).toBe(status);
    expect(desired.deployment.status).toBe(deployment);
  });
});

describe('desiredWriteback', () => {
  it('names the status after the definition and links the release record', () => {
    const desired = desiredWriteback(release({ state: 'progressing', stepIndex: 2, weights: { stable: 75, canary: 25 } }), {
      publicUrl: 'https://bot.example.com/',
    });

    expect(desired.status).toEqual({
      state: 'running',
      name: 'canarybot/reviews',
      targetUrl: 'https://bot.example.com/releases/rel-reviews-0001',
      description: 'progressing: step 3/6, canary 25 %',
    });
    expect(desired.deployment.environment).toBe('default/bookinfo/reviews');
    expect(desired.project).toBe('bookinfo/reviews');
    expect(desired.approvalRequest).toBeNull();
  });

  it('has no note and no approval request without an MR', () => {
    const desired = desiredWriteback(release({ state: 'awaiting-approval', stepIndex: 3, mr: null }), {});

    expect(desired.note).toBeNull();
    expect(desired.approvalRequest).toBeNull();
    expect(desired.status.targetUrl).toBeUndefined();
  });

  it('asks for approval once per attempt and step', () => {
    const first = desiredWriteback(release({ state: 'awaiting-approval', stepIndex: 3 }), {});
    const retried = desiredWriteback(release({ state: 'awaiting-approval', stepIndex: 3, attempt: 2 }), {});

    expect(first.approvalRequest?.key).toBe('1-3');
    expect(retried.approvalRequest?.key).toBe('2-3');
    expect(first.approvalRequest?.body).toContain('`/canary approve`');
  });

  it.each<[string, Parameters<typeof release>[0], string | null]>([
    ['rolling back after a failed gate', { state: 'rolling-back', rollbackOutcome: 'rolled-back', stepIndex: 2, reason: 'Analysis failed at step 3: request-success-rate was 97.2 against >= 99' }, 'is being rolled back'],
    ['rolled back', { state: 'rolled-back', rollbackOutcome: 'rolled-back', stepIndex: 2, reason: 'Alert HighErrorRate fired' }, 'was rolled back'],
    ['rolling back for an abort', { state: 'rolling-back', rollbackOutcome: 'aborted', stepIndex: 2 }, null],
    ['aborted', { state: 'aborted', rollbackOutcome: 'aborted', stepIndex: 2 }, null],
    ['superseded', { state: 'superseded', rollbackOutcome: 'superseded', stepIndex: 2 }, null],
    ['promoted', { state: 'succeeded', stepIndex: 5 }, null],
  ])('@-mentions the MR author once per attempt when %s', (_, fields, says) => {
    const desired = desiredWriteback(release(fields), {});

    if (says === null) return expect(desired.approvalRequest).toBeNull();
    expect(desired.approvalRequest?.key).toBe('rollback-1');
    expect(desired.approvalRequest?.body).toMatch(new RegExp(`^⏪ @bob \`reviews\` ${says}: all traffic goes back to stable. `));
    expect(desired.approvalRequest?.body).toContain(fields?.reason ?? '');
  });

  it('mentions nobody for a rollback when the MR author is unknown', () => {
    const desired = desiredWriteback(release({ state: 'rolled-back', rollbackOutcome: 'rolled-back', mr: { projectId: 42, iid: 7 } }), {});

    expect(desired.approvalRequest).toBeNull();
  });
});
