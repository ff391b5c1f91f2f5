// Runs a release train's GitOps write (check, commit or merge request, revert) through the GitOps
// port, for the members sharing one config repository and branch, and turns the answer into the
// train core's `gitops-result` — errors as any effect's: transient is retried, anything else terminal.

import { CanarybotError } from '../core/errors.js';
import type { EffectOutcome, GitOpsReport } from '../core/input.js';
import type { GitOpsPort, TrainGitOpsRequest } from '../core/ports.js';
import type { Release } from '../core/release.js';
import type { TrainEffect, TrainInput, TrainMember, TrainRun } from '../core/train/train-run.js';

type GitOpsResult = EffectOutcome & { gitops?: GitOpsReport };

export async function runTrainGitOps(
  port: GitOpsPort | undefined,
  run: TrainRun,
  effect: Extract<TrainEffect, { type: 'gitops' }>,
  asRelease: (member: TrainMember) => Release,
): Promise<TrainInput> {
  const answer = (result: GitOpsResult): TrainInput => ({ type: 'gitops-result', action: effect.action, write: effect.write, result });
  const write = (run.gitops ?? []).find((candidate) => candidate.key === effect.write);
  if (!port || !write) return answer({ outcome: 'terminal', code: 'GITOPS_REFUSED', message: port ? `no GitOps write ${effect.write} in the run` : 'spec.gitops needs the GitLab API (GITLAB_URL, GITLAB_TOKEN) for the config repository' });
  const request: TrainGitOpsRequest = {
    runId: run.id,
    train: run.train.name,
    repository: write.repository,
    branch: write.branch,
    via: write.via,
    members: write.members.flatMap((name) => run.members.filter((member) => member.name === name).map(asRelease)),
    mergeRequest: write.mergeRequest,
    commit: write.commit,
  };
  try {
    switch (effect.action) {
      case 'check':
        await port.checkTrain(request);
        return answer({ outcome: 'ok' });
      case 'commit': {
        const { done, report, message } = await port.promoteTrain(request);
        return answer(done ? { outcome: 'ok', gitops: report } : { outcome: 'progressing', ...(message ? { message } : {}), gitops: report });
      }
      case 'revert':
        return answer({ outcome: 'ok', gitops: await port.revertTrain(request) });
    }
  } catch (error) {
    if (error instanceof CanarybotError) return answer({ outcome: error.transient ? 'transient' : 'terminal', code: error.code, message: error.message });
    return answer({ outcome: 'terminal', code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) });
  }
}
