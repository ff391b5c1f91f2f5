// The GitOps section of the progress note: commit short sha linked, each file old → new, the sync
// state while the controller is awaited, the revert, drift warnings and a refused revert.

import { describe, expect, it } from 'vitest';
import type { GitOpsState } from '../../src/core/gitops-state.js';
import { renderGitOpsSection } from '../../src/gitlab/render-gitops.js';
import { renderProgressNote } from '../../src/gitlab/render-progress-note.js';
import { releaseRecord, reviewsDefinition } from '../support/release-fixture.js';

const definition = reviewsDefinition({
  gitops: { repository: 'platform/k8s-config', files: [{ path: 'apps/reviews/values.yaml', pin: { kind: 'helmValues', path: ['image', 'tag'] } }], via: 'commit', onDrift: 'warn', sync: { controller: 'argocd', application: 'reviews', namespace: 'argocd', timeoutMs: 600_000 }, mergeTimeoutMs: 600_000 },
});
const base: GitOpsState = {
  repository: 'platform/k8s-config',
  branch: 'main',
  pins: [{ path: 'apps/reviews/values.yaml', where: 'image.tag', before: 'v1', after: '0a1b2c3d' }],
  warnings: [],
  commit: null,
  mergeRequest: null,
  revert: null,
  revertRefused: null,
  sync: null,
};
const COMMIT = { sha: '3f9c2a1b7d'.padEnd(40, '0'), url: 'http://gitlab.test/platform/k8s-config/-/commit/3f9c2a1b' };

describe('renderGitOpsSection', () => {
  it.each<[string, Partial<GitOpsState>, string]>([
    ['before the commit', {}, '**GitOps:** `platform/k8s-config` @ `main` · nothing written yet\n- `apps/reviews/values.yaml` image.tag: `v1` → `0a1b2c3d`'],
    [
      'committed, waiting for Argo CD',
      { commit: COMMIT, sync: 'revision 3f9c2a1b, OutOfSync, Progressing' },
      '**GitOps:** `platform/k8s-config` @ `main` · commit [`3f9c2a1b`](http://gitlab.test/platform/k8s-config/-/commit/3f9c2a1b)\n- `apps/reviews/values.yaml` image.tag: `v1` → `0a1b2c3d`\n- sync: Argo CD argocd/reviews — revision 3f9c2a1b, OutOfSync, Progressing',
    ],
    [
      'merge request open',
      { mergeRequest: { iid: 7, url: 'http://gitlab.test/mr/7' } },
      '**GitOps:** `platform/k8s-config` @ `main` · merge request [!7](http://gitlab.test/mr/7) (not merged yet)\n- `apps/reviews/values.yaml` image.tag: `v1` → `0a1b2c3d`',
    ],
    [
      'reverted, a refused revert and a drift warning',
      { commit: COMMIT, revert: { sha: 'e'.repeat(40), url: 'http://gitlab.test/r' }, sync: 'Synced', warnings: ['apps/reviews/values.yaml image.tag is v0 in Git'], revertRefused: 'image.tag is now v9' },
      '**GitOps:** `platform/k8s-config` @ `main` · commit [`3f9c2a1b`](http://gitlab.test/platform/k8s-config/-/commit/3f9c2a1b)\n- `apps/reviews/values.yaml` image.tag: `v1` → `0a1b2c3d`\n- rolled back in Git by [`eeeeeeee`](http://gitlab.test/r)\n- sync: Argo CD argocd/reviews — Synced\n- ⚠️ drift (onDrift: warn): apps/reviews/values.yaml image.tag is v0 in Git\n- ❗ Git was not rolled back: image.tag is now v9',
    ],
  ])('%s', (_name, state, expected) => {
    expect(renderGitOpsSection(releaseRecord({ definition, gitops: { ...base, ...state } }))).toBe(expected);
  });

  it('says nothing was written, and what stays, when the release ended before promotion', () => {
    expect(renderGitOpsSection(releaseRecord({ definition, state: 'rolled-back', gitops: base }))).toBe(
      '**GitOps:** `platform/k8s-config` @ `main` · nothing written: the release ended before promotion\n- `apps/reviews/values.yaml` image.tag: stays `v1`',
    );
  });

  it('is in the progress note, and absent without spec.gitops', () => {
    expect(renderProgressNote(releaseRecord({ definition, gitops: { ...base, commit: COMMIT } }))).toContain('commit [`3f9c2a1b`]');
    expect(renderProgressNote(releaseRecord())).not.toContain('GitOps');
  });
});

describe('chat', () => {
  it('names the GitOps commit when a release is promoted', async () => {
    const { notificationText } = await import('../../src/chatops/notification-text.js');
    const text = notificationText(releaseRecord({ definition, state: 'succeeded', gitops: { ...base, commit: COMMIT } }), 'promoted', {} as never);

    expect(text).toContain('Git: <http://gitlab.test/platform/k8s-config/-/commit/3f9c2a1b|3f9c2a1b> in platform/k8s-config.');
  });
});
