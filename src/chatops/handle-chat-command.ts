import type { Logger } from 'pino';
import type { ActingVerb, ParsedCommand } from '../core/command.js';
import { CanarybotError } from '../core/errors.js';
import { HELP_TEXT, parseCommand, parseTrainCommand } from '../core/parse-command.js';
import { actOnTrainCommand, startTrainCommand, type TrainStartDeps } from '../engine/train-commands.js';
import type { CommandReplier, ReplyTarget } from '../core/ports.js';
import type { Actor, Release } from '../core/release.js';
import type { ReleaseEngine } from '../engine/api.js';
import type { IntakeAudit, IntakeRefusal } from '../engine/intake-audit.js';
import { authorizeActor } from '../gitlab/authorize-actor.js';
import type { GitLabApi } from '../gitlab/gitlab-api.js';
import { mergeRequestAuthorOf } from '../gitlab/merge-request-author.js';
import { chatUserLabel, type ChatRequest } from './chat-request.js';
import { releaseList, releaseStatus } from './format-release.js';
import type { IdentityResolver } from './identity.js';
import { latestPerTarget, resolveService } from './resolve-service.js';

export interface ChatCommandHandlerOptions {
  engine: Pick<ReleaseEngine, 'list' | 'command'>;
  identity: IdentityResolver;
  gitlab: Pick<GitLabApi, 'memberAccessLevel' | 'groupMemberAccessLevel' | 'getMergeRequest'>;
  /** Sends read answers and refusals; accepted commands are answered by the engine through its replier. */
  replier: CommandReplier;
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** Release trains (`/canary train start`); absent: none configured. */
  trains?: Omit<TrainStartDeps, 'gitlab'> | undefined;
  /** Records the refusals that have no release to be audited on (unknown command, no live release), for GET /api/audit. */
  audit?: Pick<IntakeAudit, 'record'> | undefined;
}

export type ChatCommandHandler = (request: ChatRequest) => Promise<void>;

/**
 * Runs a chat slash command off the request path: the same grammar and the same approvals policy as
 * MR comments. Reading (status, list, help) is open to every chat user; changing a release needs a
 * chat user mapped to a GitLab user whose access on the definition's project satisfies the policy.
 * Never throws: every path ends in a reply.
 */
export function createChatCommandHandler(options: ChatCommandHandlerOptions): ChatCommandHandler {
  const { engine, replier } = options;

  return async (request) => {
    const target: ReplyTarget = { channel: request.channel, responseUrl: request.responseUrl };
    const say = (ok: boolean, message: string): Promise<void> => replier.reply(target, { ok, message });
    const refuse = async (refusal: Omit<IntakeRefusal, 'actor'> & { actor?: IntakeRefusal['actor'] }): Promise<void> => {
      await options.audit?.record({ actor: refusal.actor ?? unmappedActor(request), ...refusal });
      return say(false, refusal.sentence);
    };
    try {
      const train = parseTrainCommand(request.text, { requireService: true });
      if (train.kind === 'invalid') return await refuse({ verb: 'train', sentence: train.message });
      if (train.kind === 'train-start') {
        if (!options.trains || options.trains.runner.trains.length === 0) return await refuse({ verb: 'train', sentence: 'No release trains are defined, so there is no train to start.' });
        const identity = await options.identity.resolve(request);
        if (identity.kind === 'unmapped') return await refuse({ verb: 'train', sentence: `Refused: ${identity.message}` });
        const answer = await startTrainCommand(
          { ...options.trains, gitlab: options.gitlab },
          { command: train.command, actor: { username: identity.user.username, userId: identity.user.id, channel: request.channel, chatUser: chatUserLabel(request) } },
        );
        return await say(answer.ok, answer.message);
      }
      if (train.kind === 'train-act') {
        const runner = options.trains?.runner;
        if (!runner?.findLive || !runner.find || !runner.command) return await refuse({ verb: 'train', sentence: 'No release trains are defined, so there is no train to act on.' });
        const trainDeps = { runner: { findLive: runner.findLive.bind(runner), find: runner.find.bind(runner), command: runner.command.bind(runner) }, gitlab: options.gitlab };
        // Reading a train is open to every chat user, as /canary status is.
        if (train.command.verb === 'status') {
          const answer = await actOnTrainCommand(trainDeps, { command: train.command, actor: { username: request.userName ?? request.userId, userId: 0, channel: request.channel } });
          return await say(answer.ok, answer.message);
        }
        const identity = await options.identity.resolve(request);
        if (identity.kind === 'unmapped') return await refuse({ verb: 'train', sentence: `Refused: ${identity.message}` });
        const answer = await actOnTrainCommand(trainDeps, {
          command: train.command,
          actor: { username: identity.user.username, userId: identity.user.id, channel: request.channel, chatUser: chatUserLabel(request) },
        });
        return await say(answer.ok, answer.message);
      }
      const parsed = parseCommand(request.text, { requireService: true });
      if (parsed.kind === 'invalid') {
        await options.audit?.record({ actor: unmappedActor(request), verb: 'unknown', sentence: parsed.quietMessage.split('\n\n')[0] ?? '' });
        return await say(false, parsed.quietMessage);
      }
      if (parsed.kind !== 'command') return await say(false, HELP_TEXT);
      const command = parsed.command;
      switch (command.verb) {
        case 'help':
          return await say(true, HELP_TEXT);
        case 'list':
          return await say(true, releaseList(await engine.list({ state: 'live' }), 'No live releases.'));
        case 'status':
          return await say(true, await statusText(engine, command));
        default:
          return await act(request, command as ParsedCommand & { verb: ActingVerb; service: string }, target, refuse);
      }
    } catch (error) {
      options.logger?.warn({ channel: request.channel, err: error }, 'chat command failed');
      const what = error instanceof CanarybotError && error.code.startsWith('GITLAB_') ? 'GitLab could not be asked who may do it' : 'a service it depends on is unavailable';
      await say(false, `canarybot could not complete this command (${what}); nothing was changed. Try again in a minute.`).catch(() => undefined);
    }
  };

  async function act(
    request: ChatRequest,
    command: ParsedCommand & { verb: ActingVerb; service: string },
    target: ReplyTarget,
    refuse: (refusal: Omit<IntakeRefusal, 'actor'> & { actor?: IntakeRefusal['actor'] }) => Promise<void>,
  ): Promise<void> {
    const { verb, service } = command;
    const identity = await options.identity.resolve(request);
    if (identity.kind === 'unmapped') return refuse({ verb, service, sentence: `Refused: ${identity.message}` });
    const actor: Actor = { username: identity.user.username, userId: identity.user.id, channel: request.channel, chatUser: chatUserLabel(request) };

    const release = await findRelease(engine, command.verb, command.service);
    if (typeof release === 'string') return refuse({ actor, verb, service, sentence: release });

    // A GitLab outage here throws: the catch above refuses with "try again", nothing changes.
    const mrAuthor = await mergeRequestAuthorOf(options.gitlab, release);
    const verdict = await authorizeActor(options.gitlab, {
      verb: command.verb,
      policy: release.definition.approvals,
      project: release.definition.trigger.project,
      actor: { username: identity.user.username, userId: identity.user.id },
      ...(mrAuthor ? { mrAuthor } : {}),
    });
    const commandRequest = {
      verb: command.verb,
      actor,
      releaseId: release.id,
      stepIndex: release.stepIndex,
      // The time of receipt: an approval asked for after the person typed it does not count.
      writtenAt: request.receivedAt,
      ...(command.reason ? { reason: command.reason } : {}),
    };
    if (!verdict.allowed) {
      // Into the release's audit (the core changes nothing else); answered here, not by the engine.
      await engine.command({ ...commandRequest, refusal: `Refused: ${verdict.message}` });
      return replier.reply(target, { ok: false, message: `Refused: ${verdict.message}` });
    }

    options.logger?.info({ channel: request.channel, releaseId: release.id, verb: command.verb, username: identity.user.username }, 'chat command accepted');
    await engine.command({ ...commandRequest, replyTo: target });
  }
}

/** A chat user not (yet) known as a GitLab user: the audit names the chat account. */
function unmappedActor(request: ChatRequest): IntakeRefusal['actor'] {
  return { username: null, channel: request.channel, chatUser: chatUserLabel(request) };
}

/** `retry` and `status` look at each target's newest release; the other verbs at live ones. */
async function findRelease(engine: Pick<ReleaseEngine, 'list'>, verb: ActingVerb | 'status', name: string): Promise<Release | string> {
  const service = name.split('/').at(-1)!;
  const candidates = verb === 'retry' || verb === 'status' ? latestPerTarget(await engine.list({ service })) : await engine.list({ state: 'live', service });
  const found = resolveService(name, candidates);
  if (found.kind === 'found') return found.release;
  if (found.kind === 'ambiguous') return `\`${name}\` names more than one release target; say which: ${found.choices.map((c) => `\`/canary ${verb} ${c}\``).join(', ')}.`;
  const what = verb === 'retry' || verb === 'status' ? 'release' : 'live release';
  return `No ${what} of \`${name}\`. \`/canary list\` shows the live releases.`;
}

async function statusText(engine: Pick<ReleaseEngine, 'list'>, command: ParsedCommand): Promise<string> {
  if (!command.service) return releaseList(await engine.list({ state: 'live' }), 'No live releases.');
  const release = await findRelease(engine, 'status', command.service);
  return typeof release === 'string' ? release : releaseStatus(release);
}
