// spec.gitops in the core (issue 14), driven on a fake clock: Git first at promotion, the stable
// image only after the commit (never with a controller), one revert commit for a rollback after the
// commit and none before it, a value a human changed left alone with the release failed, and the
// pinned generic `wait` while a merge request or the controller is awaited.

import { describe, expect, it } from 'vitest';
import type { GitOpsSpec } from '../../src/core/gitops-spec.js';
import type { EffectOutcome, GitOpsReport } from '../../src/core/input.js';
import { renderGitOpsSection } from '../../src/gitlab/render-gitops.js';
import { Driver } from './driver.js';
import { T0, check, definition, release } from './fixtures.js';

const STEPS = [{ kind: 'setWeight' as const, weight: 50 }, { kind: 'analysis' as const }];
const COMMIT = 'c'.repeat(40);
const REVERT = 'e'.repeat(40);

function gitops(overrides: Partial<GitOpsSpec> = {}): GitOpsSpec {
  return { repository: 'platform/k8s-config', files: [{ path: 'apps/reviews/values.yaml', pin: { kind: 'helmValues', path: ['image', 'tag'] } }], via: 'commit', onDrift: 'refuse', mergeTimeoutMs: 600_000, ...overrides };
}
/** The revert found no pin holding canarybot's value: nothing written. */
const NOTHING = { outcome: 'ok' as const, gitops: { nothingToRevert: true } };
const SYNC = { controller: 'argocd' as const, application: 'reviews', namespace: 'argocd', timeoutMs: 120_000 };

type GitWorld = (effect: 'gitops-commit' | 'gitops-revert' | 'gitops-sync', call: number) => EffectOutcome & { gitops?: GitOpsReport };
const committed: GitWorld = (effect) =>
  effect === 'gitops-sync' ? { outcome: 'ok' } : { outcome: 'ok', gitops: { commit: { sha: effect === 'gitops-commit' ? COMMIT : REVERT, url: 'u' } } };

function driverFor(spec: GitOpsSpec, world: { gitops?: GitWorld; rollout?: ConstructorParameters<typeof Driver>[2] extends infer W ? W extends { rollout?: infer R } ? R : never : never; gate?: (s: number, n: number) => ReturnType<typeof check> } = {}) {
  const def = definition({ steps: STEPS }, { gitops: spec });
  return new Driver(release(def, { stableImageBefore: 'registry.example.com/bookinfo/reviews:v1' }), T0, {
    gitops: world.gitops ?? committed,
    gate: world.gate ?? (() => check('pass')),
    ...(world.rollout ? { rollout: world.rollout } : {}),
  });
}

describe('promotion with spec.gitops', () => {
  it('without sync: commits first, then sets the stable image, then traffic and scale-down', () => {
    const driver = driverFor(gitops());

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    expect(driver.log.slice(driver.log.indexOf('gitops-commit'))).toEqual(['gitops-commit', `ensure-stable:${end.image}`, 'set-traffic:0', 'scale-canary']);
    expect(end.gitops?.commit).toEqual({ sha: COMMIT, url: 'u' });
    expect(end.audit.map((a) => a.action)).toContain('gitops-committed');
  });

  it('with sync: commits, waits for the controller and never writes the stable image', () => {
    let polls = 0;
    const driver = driverFor(gitops({ sync: SYNC }), {
      gitops: (effect, n) => {
        if (effect !== 'gitops-sync') return committed(effect, n);
        polls += 1;
        return n < 2 ? { outcome: 'progressing', message: 'OutOfSync', gitops: { waiting: { kind: 'sync', sentence: 'Waiting for Argo CD', link: 'https://argocd/applications/argocd/reviews' } } } : { outcome: 'ok' };
      },
    });

    driver.send({ type: 'start' });
    const waiting = driver.run(10_000, (r) => r.wait?.kind === 'sync');
    const end = driver.run();

    expect(waiting.wait).toMatchObject({ kind: 'sync', sentence: 'Waiting for Argo CD', link: 'https://argocd/applications/argocd/reviews', until: expect.any(Number) });
    expect(end.state).toBe('succeeded');
    expect(end.wait ?? null).toBeNull();
    expect(polls).toBe(3);
    expect(driver.log.filter((entry) => entry.startsWith('ensure-stable'))).toEqual([]);
    expect(driver.log.slice(driver.log.indexOf('gitops-commit'))).toEqual(['gitops-commit', 'gitops-sync', 'gitops-sync', 'gitops-sync', 'set-traffic:0', 'scale-canary']);
  });

  it('a failed Git write rolls back; the revert reads Git and finds nothing of canarybot\'s to revert', () => {
    const driver = driverFor(gitops(), { gitops: (effect) => (effect === 'gitops-commit' ? { outcome: 'terminal', code: 'GITLAB_REFUSED', message: 'GitLab answered 403' } : effect === 'gitops-revert' ? NOTHING : { outcome: 'ok' }) });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(end.reason).toMatch(/the Git write of the promotion failed, nothing was promoted: GitLab answered 403/);
    expect(end.gitops).toMatchObject({ commit: null, revert: null, revertRefused: null });
    expect(end.audit.map((a) => a.action)).toContain('gitops-nothing-to-revert');
    expect(driver.log.filter((entry) => entry.startsWith('ensure-stable:') && entry !== `ensure-stable:${end.stableImageBefore}`)).toEqual([]);
  });

  it.each([['without sync', gitops()], ['with sync', gitops({ sync: SYNC })]])('%s: a refused Git write puts no image on stable — canarybot never touched it (Git may hold a human\'s tag)', (_name, spec) => {
    const driver = driverFor(spec, { gitops: (effect) => (effect === 'gitops-commit' ? { outcome: 'terminal', code: 'GITOPS_REFUSED', message: 'values.yaml image.tag is now hotfix1, not v1 as read at pre-flight' } : effect === 'gitops-revert' ? NOTHING : { outcome: 'ok' }) });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(driver.log.filter((entry) => entry.startsWith('ensure-stable'))).toEqual([]);
    expect(driver.log.slice(driver.log.indexOf('gitops-commit'))).toEqual(['gitops-commit', 'set-traffic:0', 'gitops-revert', 'scale-canary']);
  });

  it('a transient Git outage is retried, never a verdict', () => {
    const driver = driverFor(gitops(), { gitops: (effect, n) => (effect === 'gitops-commit' && n < 2 ? { outcome: 'transient', code: 'GITLAB_UNAVAILABLE', message: '502' } : committed(effect, n)) });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    expect(driver.log.filter((entry) => entry === 'gitops-commit')).toHaveLength(3);
  });
});

describe('rollback after the commit', () => {
  it('without sync: traffic on stable, one revert commit, then the old stable image (which Git holds again)', () => {
    const driver = driverFor(gitops(), { rollout: (effect, n) => (effect === 'ensure-stable' && n === 0 ? { outcome: 'terminal', code: 'ROLLOUT_FAILED', message: 'ProgressDeadlineExceeded' } : { outcome: 'ok' }) });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    const tail = driver.log.slice(driver.log.indexOf('gitops-commit'));
    expect(tail).toEqual(['gitops-commit', `ensure-stable:${end.image}`, 'set-traffic:0', 'gitops-revert', `ensure-stable:${end.stableImageBefore}`, 'scale-canary']);
    expect(end.gitops?.revert).toEqual({ sha: REVERT, url: 'u' });
  });

  it('with sync: a sync timeout rolls back with one revert commit and waits for the controller again', () => {
    let syncs = 0;
    const driver = driverFor(gitops({ sync: SYNC }), {
      gitops: (effect, n) => {
        if (effect !== 'gitops-sync') return committed(effect, n);
        syncs += 1;
        return syncs <= 80 ? { outcome: 'progressing', message: 'OutOfSync' } : { outcome: 'ok' };
      },
    });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(end.reason).toMatch(/did not apply the commit within 2m/);
    expect(driver.log.filter((entry) => entry === 'gitops-revert')).toHaveLength(1);
    expect(driver.log.filter((entry) => entry.startsWith('ensure-stable'))).toEqual([]);
    const revertAt = driver.log.indexOf('gitops-revert');
    expect(driver.log.slice(revertAt - 1, revertAt)).toEqual(['set-traffic:0']);
    expect(driver.log.slice(revertAt + 1).at(-1)).toBe('scale-canary');
  });

  it('leaves a value a human changed after the commit, restores no image, and fails loudly', () => {
    const driver = driverFor(gitops(), {
      gitops: (effect, n) => (effect === 'gitops-revert' ? { outcome: 'ok', gitops: { refused: 'apps/reviews/values.yaml image.tag is now v9-hotfix, not 0a1b2c3d: a human changed it after canarybot\'s commit; left as it is' } } : committed(effect, n)),
      rollout: (effect, n) => (effect === 'ensure-stable' && n === 0 ? { outcome: 'terminal', code: 'ROLLOUT_FAILED', message: 'crash loop' } : { outcome: 'ok' }),
    });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('failed');
    expect(end.reason).toMatch(/Git was NOT rolled back: apps\/reviews\/values.yaml image.tag is now v9-hotfix/);
    expect(driver.log.filter((entry) => entry.startsWith('ensure-stable'))).toEqual([`ensure-stable:${end.image}`]);
    expect(driver.log.at(-1)).toBe('scale-canary');
  });

  it('before the commit (analysis fails): nothing is written to Git', () => {
    const driver = driverFor(gitops(), { gate: () => check('fail', 50) });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(driver.log.filter((entry) => entry.startsWith('gitops'))).toEqual([]);
  });
});

describe('via: merge-request', () => {
  const waitingMr = { outcome: 'progressing' as const, message: 'merge request !7 is open', gitops: { mergeRequest: { iid: 7, url: 'http://gitlab.test/platform/k8s-config/-/merge_requests/7' }, waiting: { kind: 'merge-request' as const, sentence: 'Waiting for merge request !7 to be merged', link: 'http://gitlab.test/platform/k8s-config/-/merge_requests/7' } } };

  it('waits with the MR on the release\'s wait field, then goes on once merged', () => {
    const driver = driverFor(gitops({ via: 'merge-request' }), { gitops: (effect, n) => (effect === 'gitops-commit' && n < 3 ? waitingMr : committed(effect, n)) });

    driver.send({ type: 'start' });
    const waiting = driver.run(10_000, (r) => r.wait?.kind === 'merge-request');
    const end = driver.run();

    expect(waiting.wait).toMatchObject({ kind: 'merge-request', link: 'http://gitlab.test/platform/k8s-config/-/merge_requests/7' });
    expect(waiting.state).toBe('promoting');
    expect(end.state).toBe('succeeded');
    expect(end.gitops?.mergeRequest?.iid).toBe(7);
    expect(end.wait ?? null).toBeNull();
  });

  it('rolls back when the MR is not merged within the timeout, closing the MR (nothing to revert)', () => {
    const driver = driverFor(gitops({ via: 'merge-request', mergeTimeoutMs: 60_000 }), { gitops: (effect, n) => (effect === 'gitops-commit' ? waitingMr : effect === 'gitops-revert' ? closed : committed(effect, n)) });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(end.reason).toBe('merge request !7 was not merged within 1m');
    expect(driver.log.slice(driver.log.lastIndexOf('gitops-commit') + 1)).toEqual(['set-traffic:0', 'gitops-revert', 'scale-canary']);
    expect(end.gitops).toMatchObject({ mergeRequestClosed: true, commit: null, revert: null });
  });
});

const MR7 = { iid: 7, url: 'http://gitlab.test/platform/k8s-config/-/merge_requests/7' };
const closed = { outcome: 'ok' as const, gitops: { mergeRequest: MR7, closedMergeRequest: MR7 } };

describe('via: merge-request, rolled back while the MR waits (the MR is closed, never left to merge later)', () => {
  const waitingMr = { outcome: 'progressing' as const, message: 'merge request !7 is open', gitops: { mergeRequest: MR7, waiting: { kind: 'merge-request' as const, sentence: 'Waiting for merge request !7 to be merged', link: MR7.url } } };
  const mergedMeanwhile = { outcome: 'ok' as const, gitops: { mergedBeforeClose: { sha: COMMIT, url: 'm' }, commit: { sha: REVERT, url: 'u' } } };
  const transient = { outcome: 'transient' as const, code: 'GITLAB_UNAVAILABLE', message: 'GitLab answered 502' };
  const refused = { outcome: 'terminal' as const, code: 'GITLAB_REFUSED', message: 'GitLab answered 403' };
  type Revert = (n: number) => EffectOutcome & { gitops?: GitOpsReport };
  const V1 = 'registry.example.com/bookinfo/reviews:v1';

  it.each<[string, GitOpsSpec, Revert, string, string[], Record<string, unknown>]>([
    ['closed', gitops({ via: 'merge-request' }), () => closed, 'aborted', ['set-traffic:0', 'gitops-revert', 'scale-canary'], { mergeRequestClosed: true, commit: null, revert: null, revertRefused: null }],
    ['closed, with sync: no controller wait', gitops({ via: 'merge-request', sync: SYNC }), () => closed, 'aborted', ['set-traffic:0', 'gitops-revert', 'scale-canary'], { mergeRequestClosed: true, commit: null }],
    ['a transient GitLab error is retried until closed', gitops({ via: 'merge-request' }), (n) => (n < 2 ? transient : closed), 'aborted', ['set-traffic:0', 'gitops-revert', 'gitops-revert', 'gitops-revert', 'scale-canary'], { mergeRequestClosed: true }],
    ['merged meanwhile: reverted as a commit, the old image back on stable', gitops({ via: 'merge-request' }), () => mergedMeanwhile, 'aborted', ['set-traffic:0', 'gitops-revert', `ensure-stable:${V1}`, 'scale-canary'], { commit: { sha: COMMIT, url: 'm' }, revert: { sha: REVERT, url: 'u' } }],
    ['merged meanwhile, with sync: reverted, then the controller applies the revert', gitops({ via: 'merge-request', sync: SYNC }), () => mergedMeanwhile, 'aborted', ['set-traffic:0', 'gitops-revert', 'gitops-sync', 'scale-canary'], { commit: { sha: COMMIT, url: 'm' }, revert: { sha: REVERT, url: 'u' } }],
    ['refused for good: the release fails naming the open MR', gitops({ via: 'merge-request' }), () => refused, 'failed', ['set-traffic:0', 'gitops-revert', 'scale-canary'], { commit: null, revert: null, revertRefused: expect.stringMatching(/^merge request !7 \(http:\/\/gitlab.test\/.*\) could NOT be closed and may still merge .* close it by hand: GitLab answered 403/) }],
  ])('%s', (_name, spec, revert, state, order, gitopsState) => {
    const driver = driverFor(spec, { gitops: (effect, n) => (effect === 'gitops-commit' ? waitingMr : effect === 'gitops-revert' ? revert(n) : { outcome: 'ok' }) });
    driver.send({ type: 'start' });
    const waiting = driver.run(10_000, (r) => r.wait?.kind === 'merge-request');

    driver.send({ type: 'command', verb: 'abort', actor: { username: 'mia', channel: 'gitlab' }, releaseId: waiting.id, stepIndex: waiting.stepIndex });
    const end = driver.run();

    expect(end.state).toBe(state);
    expect(driver.log.slice(driver.log.lastIndexOf('gitops-commit') + 1)).toEqual(order);
    expect(end.gitops).toMatchObject(gitopsState);
    expect(end.wait?.kind ?? null).not.toBe('merge-request');
  });

  it('audits and tells the note "merge request !7 closed (the release rolled back)"', () => {
    const driver = driverFor(gitops({ via: 'merge-request' }), { gitops: (effect) => (effect === 'gitops-commit' ? waitingMr : closed) });
    driver.send({ type: 'start' });
    const waiting = driver.run(10_000, (r) => r.wait?.kind === 'merge-request');

    driver.send({ type: 'command', verb: 'abort', actor: { username: 'mia', channel: 'gitlab' }, releaseId: waiting.id, stepIndex: waiting.stepIndex });
    const end = driver.run();

    expect(end.audit.find((entry) => entry.action === 'gitops-merge-request-closed')?.detail).toBe('merge request !7 closed (the release rolled back)');
    expect(renderGitOpsSection(end)).toContain('merge request [!7](http://gitlab.test/platform/k8s-config/-/merge_requests/7) closed (the release rolled back)');
  });

  const lost = { outcome: 'transient' as const, code: 'GITLAB_UNAVAILABLE', message: 'GitLab answered 502' };
  it.each<[string, EffectOutcome & { gitops?: GitOpsReport }, string | null, Record<string, unknown>]>([
    ['found open: recorded and closed', closed, 'gitops-merge-request-closed', { mergeRequest: MR7, mergeRequestClosed: true, commit: null, revert: null, revertRefused: null }],
    ['none open or merged: nothing to close or revert', { outcome: 'ok', gitops: { nothingToRevert: true } }, 'gitops-nothing-to-revert', { mergeRequest: null, commit: null, revert: null, revertRefused: null }],
  ])('rolled back while the MR write has no answer recorded (GitLab may have opened it): the rollback asks for it to be closed — %s', (_name, revert, audited, gitopsState) => {
    const driver = driverFor(gitops({ via: 'merge-request' }), { gitops: (effect) => (effect === 'gitops-commit' ? lost : effect === 'gitops-revert' ? revert : { outcome: 'ok' }) });
    driver.send({ type: 'start' });
    const writing = driver.run(10_000, (r) => r.phase === 'git');

    driver.send({ type: 'command', verb: 'abort', actor: { username: 'mia', channel: 'gitlab' }, releaseId: writing.id, stepIndex: writing.stepIndex });
    const end = driver.run();

    expect(end.state).toBe('aborted');
    expect(driver.log.slice(driver.log.lastIndexOf('gitops-commit') + 1)).toEqual(['set-traffic:0', 'gitops-revert', 'scale-canary']);
    expect(end.gitops).toMatchObject(gitopsState);
    expect(end.audit.some((entry) => entry.action === audited)).toBe(true);
  });

  it.each<[string, EffectOutcome & { gitops?: GitOpsReport }, string, Record<string, unknown>]>([
    ['it landed: one revert commit', { outcome: 'ok', gitops: { commit: { sha: REVERT, url: 'u' } } }, 'gitops-reverted', { commit: null, revert: { sha: REVERT, url: 'u' }, revertRefused: null }],
    ['it never landed: nothing to revert, nothing written', NOTHING, 'gitops-nothing-to-revert', { commit: null, revert: null, revertRefused: null }],
  ])('via: commit, aborted before the commit\'s answer is recorded (GitLab may have stored it): the rollback runs gitops-revert — %s', (_name, revert, audited, gitopsState) => {
    const driver = driverFor(gitops(), { gitops: (effect) => (effect === 'gitops-commit' ? lost : effect === 'gitops-revert' ? revert : { outcome: 'ok' }) });
    driver.send({ type: 'start' });
    const writing = driver.run(10_000, (r) => r.phase === 'git');

    driver.send({ type: 'command', verb: 'abort', actor: { username: 'mia', channel: 'gitlab' }, releaseId: writing.id, stepIndex: writing.stepIndex });
    const end = driver.run();

    expect(writing.gitops?.commitAsked).toBe(true);
    expect(end.state).toBe('aborted');
    expect(driver.log.slice(driver.log.lastIndexOf('gitops-commit') + 1)).toEqual(['set-traffic:0', 'gitops-revert', 'scale-canary']);
    expect(end.gitops).toMatchObject(gitopsState);
    expect(end.audit.some((entry) => entry.action === audited)).toBe(true);
  });

  it('via: commit, a record from before commitAsked re-driven in phase git (a restart) is marked as it asks again, so an abort then reverts', () => {
    const driver = driverFor(gitops(), { gitops: (effect) => (effect === 'gitops-commit' ? lost : effect === 'gitops-revert' ? NOTHING : { outcome: 'ok' }) });
    driver.send({ type: 'start' });
    const writing = driver.run(10_000, (r) => r.phase === 'git');
    const { commitAsked: _asked, ...older } = writing.gitops!;
    driver.release = { ...writing, gitops: older };
    driver.now = Math.max(driver.now, writing.wakeAt ?? 0);

    driver.send({ type: 'tick' });
    expect(driver.release.gitops?.commitAsked).toBe(true);
    driver.send({ type: 'command', verb: 'abort', actor: { username: 'mia', channel: 'gitlab' }, releaseId: writing.id, stepIndex: writing.stepIndex });
    const end = driver.run();

    expect(end.state).toBe('aborted');
    expect(driver.log.slice(driver.log.lastIndexOf('gitops-commit') + 1)).toEqual(['set-traffic:0', 'gitops-revert', 'scale-canary']);
  });

  it('a refused close says so loudly in the reason and the note', () => {
    const driver = driverFor(gitops({ via: 'merge-request' }), { gitops: (effect) => (effect === 'gitops-commit' ? waitingMr : refused) });
    driver.send({ type: 'start' });
    const waiting = driver.run(10_000, (r) => r.wait?.kind === 'merge-request');

    driver.send({ type: 'command', verb: 'abort', actor: { username: 'mia', channel: 'gitlab' }, releaseId: waiting.id, stepIndex: waiting.stepIndex });
    const end = driver.run();

    expect(end.reason).toMatch(/Git was NOT rolled back: merge request !7 .* could NOT be closed/);
    expect(renderGitOpsSection(end)).toMatch(/❗ Git was not rolled back: merge request !7 .* close it by hand/);
  });
});
