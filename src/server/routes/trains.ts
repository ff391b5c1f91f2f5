// `GET /api/trains`, `GET /api/trains/:id` (JSON, or `?format=markdown` for the train summary) and
// `POST /api/trains/:id/commands` ({command: approve|abort|promote, reason?}): release trains as one
// unit, behind the same authentication as the rest of /api. A command is given as the caller's
// GitLab user under every member's approvals policy and lands in the run's audit (channel `api`).

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TrainRun } from '../../core/train/train-run.js';
import { requireCaller } from '../../api/api-auth.js';
import { actOnTrainCommand, type TrainActAnswer, type TrainActDeps } from '../../engine/train-commands.js';
import type { TrainRunner } from '../../engine/train-runner.js';
import { renderTrainSummary } from '../../gitlab/render-train-summary.js';
import type { RouteModule } from '../app.js';

export interface TrainsRoutesOptions {
  runner: Pick<TrainRunner, 'history' | 'find' | 'findLive' | 'command'>;
  gitlab: TrainActDeps['gitlab'];
  logger?: TrainActDeps['logger'];
}

const MAX_LIMIT = 500;

const commandBody = z.strictObject({
  command: z.enum(['approve', 'abort', 'promote'], { error: 'command must be one of approve, abort, promote' }),
  reason: z.string({ error: 'reason must be a string' }).trim().max(500, 'reason must be at most 500 characters').optional(),
});

/** A run without the members' full definitions: what a person or a dashboard reads. */
export function trainView(run: TrainRun) {
  return {
    id: run.id,
    train: run.train.name,
    state: run.state,
    phase: run.phase,
    step: run.stepIndex,
    steps: run.train.steps.length,
    lane: run.train.lane,
    entry: run.train.entry,
    promote: run.train.promote,
    members: run.members.map((member) => ({
      name: member.name,
      image: member.image,
      sha: member.sha,
      mr: member.mr,
      canary: member.canary,
      stable: member.stable,
      weights: member.traffic.weights,
      lastCheck: member.lastCheck,
      gitops: member.gitops ? { repository: member.gitops.repository, branch: member.gitops.branch, pins: member.gitops.pins, commit: member.gitops.commit, mergeRequest: member.gitops.mergeRequest, revert: member.gitops.revert } : null,
    })),
    gitops: run.gitops ?? [],
    analysis: run.analysis,
    /** What the run waits for now, as a release's `wait` (null when nothing holds it). */
    wait: run.wait ?? null,
    reason: run.reason,
    triggeredBy: run.triggeredBy,
    audit: run.audit,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    endedAt: run.endedAt,
  };
}

export function trainsRoutes(options: TrainsRoutesOptions): RouteModule {
  return (app: FastifyInstance) => {
    app.get('/api/trains', async (request, reply) => {
      const { limit: raw } = request.query as { limit?: string };
      const limit = raw === undefined ? 100 : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return reply.code(400).send({ error: `limit must be an integer from 1 to ${MAX_LIMIT}` });
      return { trains: (await options.runner.history(limit)).map(trainView) };
    });

    app.get('/api/trains/:id', async (request, reply) => {
      const { id } = request.params as { id: string };
      const { format } = request.query as { format?: string };
      if (format !== undefined && format !== 'markdown' && format !== 'json') return reply.code(400).send({ error: 'format must be "json" or "markdown"' });
      const run = await options.runner.find(id);
      if (!run) return reply.code(404).send({ error: `There is no train run ${id}.` });
      if (format === 'markdown') return reply.type('text/markdown; charset=utf-8').send(renderTrainSummary(run));
      return trainView(run);
    });

    app.post('/api/trains/:id/commands', async (request, reply) => {
      const caller = requireCaller(request, reply);
      if (!caller) return reply;
      const parsed = commandBody.safeParse(request.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const message = issue?.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; send {command, reason?}` : (issue?.message ?? 'invalid body');
        return reply.code(400).send({ error: message });
      }
      const { id } = request.params as { id: string };
      const run = await options.runner.find(id);
      if (!run) return reply.code(404).send({ error: `There is no train run ${id}.` });
      const { command, reason } = parsed.data;
      const answer = await actOnTrainCommand(
        { runner: options.runner, gitlab: options.gitlab, ...(options.logger ? { logger: options.logger } : {}) },
        { command: { verb: command, train: run.id, ...(reason ? { reason } : {}) }, actor: { username: caller.username, userId: caller.id, channel: 'api' } },
      );
      const status = trainCommandStatus(answer);
      if (status === 503) reply.header('retry-after', '5');
      return reply.code(status).send({ ok: status === 202 ? null : answer.ok, message: answer.message, trainRunId: run.id });
    });
  };
}

/**
 * The HTTP status of a train command's answer: done 200, refused by the policy 403, not accepted in
 * the run's state 409, never applied because no replica took it in time 503 (try again), taken by
 * the driving replica but not answered in time 202 (it may still apply), as release commands do.
 */
export function trainCommandStatus(answer: TrainActAnswer): 200 | 202 | 403 | 409 | 503 {
  if (answer.ok) return 200;
  if (answer.delivery === 'not-applied') return 503;
  if (answer.delivery === 'pending') return 202;
  return answer.message.startsWith('Refused') ? 403 : 409;
}
