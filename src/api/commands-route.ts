// `POST /api/releases/:id/commands`: a release command over HTTP, given as the caller's GitLab
// user. The same approvals policy as a `/canary` MR comment decides, the engine applies it exactly
// as a comment's, the answer carries the same sentence, and the release's audit records it (refused
// or not) with the channel `api`.

import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ReleaseEngine } from '../engine/api.js';
import { CanarybotError } from '../core/errors.js';
import { authorizeActor } from '../gitlab/authorize-actor.js';
import { mergeRequestAuthorOf } from '../gitlab/merge-request-author.js';
import type { RouteModule } from '../server/app.js';
import { requireCaller } from './api-auth.js';
import type { ApiReplies } from './api-replies.js';
import { ACTING_VERBS, type PolicyGitLab } from './permissions.js';

export interface CommandsRouteOptions {
  engine: Pick<ReleaseEngine, 'get' | 'command'>;
  gitlab: PolicyGitLab;
  replies: ApiReplies;
  /** How long the answer waits for the engine's outcome before answering 202 (default 10 s). */
  waitMs?: number;
  /** The bot's clock: a command is written when it is received (default Date.now). */
  now?: () => number;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

const MAX_REASON = 500;

const commandBody = z.strictObject({
  command: z.enum(ACTING_VERBS as [string, ...string[]], { error: `command must be one of ${ACTING_VERBS.join(', ')}` }),
  reason: z.string({ error: 'reason must be a string' }).trim().max(MAX_REASON, `reason must be at most ${MAX_REASON} characters`).optional(),
  /** The step the caller saw (0-based, as `step` in /api/releases): an approval binds to it. Default: the current step. */
  step: z.number({ error: 'step must be a whole number' }).int('step must be a whole number').min(-1, 'step must be -1 or more').optional(),
});

export const GITLAB_POLICY_DOWN = 'canarybot could not complete this command (GitLab could not be asked who may do it); nothing was changed. Try again in a minute.';

export function commandsRoute(options: CommandsRouteOptions): RouteModule {
  const waitMs = options.waitMs ?? 10_000;
  return (app: FastifyInstance) => {
    app.post('/api/releases/:id/commands', async (request, reply) => {
      const receivedAt = (options.now ?? Date.now)();
      const caller = requireCaller(request, reply);
      if (!caller) return reply;
      const parsed = commandBody.safeParse(request.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const message = issue?.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; send {command, reason?, step?}` : (issue?.message ?? 'invalid body');
        return reply.code(400).send({ error: message });
      }
      const { command, reason, step } = parsed.data;
      const verb = command as (typeof ACTING_VERBS)[number];
      if (verb === 'override-freeze' && !reason) return reply.code(400).send({ error: 'override-freeze needs a reason (it is audited); send {command: "override-freeze", reason}' });
      const { id } = request.params as { id: string };
      const release = await options.engine.get(id);
      if (!release) return reply.code(404).send({ error: `There is no release ${id}.` });

      let refusal: string | undefined;
      try {
        const mrAuthor = await mergeRequestAuthorOf(options.gitlab, release);
        const decision = await authorizeActor(options.gitlab, {
          verb,
          policy: release.definition.approvals,
          project: release.definition.trigger.project,
          actor: { username: caller.username, userId: caller.id },
          ...(mrAuthor !== undefined ? { mrAuthor } : {}),
        });
        if (!decision.allowed) refusal = `Refused by ${decision.message}`;
      } catch (error) {
        if (!(error instanceof CanarybotError && error.code.startsWith('GITLAB_'))) throw error;
        options.logger?.warn({ releaseId: id, verb, err: error.message }, 'api command: the approvals policy could not be checked');
        return reply.code(503).header('retry-after', '30').send({ ok: false, message: GITLAB_POLICY_DOWN, releaseId: id });
      }

      const requestId = randomUUID();
      await options.engine.command({
        verb,
        actor: { username: caller.username, userId: caller.id, channel: 'api' },
        releaseId: release.id,
        stepIndex: step ?? release.stepIndex,
        writtenAt: receivedAt,
        ...(reason ? { reason } : {}),
        ...(refusal !== undefined ? { refusal } : {}),
        replyTo: { channel: 'api', requestId },
      });
      options.logger?.info({ releaseId: id, verb, username: caller.username, refused: refusal !== undefined }, 'api command');
      const outcome = await options.replies.wait(requestId, waitMs);
      if (!outcome) {
        return reply.code(202).send({ ok: null, message: `Accepted; the release is busy, so the outcome of ${verb} will show in its audit.`, releaseId: id });
      }
      const status = outcome.ok ? 200 : refusal !== undefined ? 403 : 409;
      return reply.code(status).send({ ok: outcome.ok, message: outcome.message, releaseId: id });
    });
  };
}
