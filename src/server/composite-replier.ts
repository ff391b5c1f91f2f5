import type { Logger } from 'pino';
import type { CommandOutcome, CommandReplier, ReplyTarget } from '../core/ports.js';

export interface CompositeReplierOptions {
  /** Answers in the MR thread (GitLabReplier). */
  gitlab: CommandReplier;
  /** Answers through the chat response URL (createChatReplier). */
  chat: CommandReplier;
  /** A reply that could not be delivered is logged here (the person who asked was not told). */
  logger?: Pick<Logger, 'warn'>;
  /** Hands the outcome to the HTTP request that gave the command (createApiReplies). */
  api?: CommandReplier;
}

/**
 * The engine's one CommandReplier: each reply goes to the adapter of the channel the command came
 * from. Never throws into the release, but never drops a failed reply silently either: it is logged
 * with the channel and whether the command was accepted.
 */
export function createCompositeReplier(options: CompositeReplierOptions): CommandReplier {
  return {
    async reply(target: ReplyTarget, outcome: CommandOutcome): Promise<void> {
      const replier = target.channel === 'gitlab' ? options.gitlab : target.channel === 'api' ? options.api : options.chat;
      if (!replier) return;
      try {
        await replier.reply(target, outcome);
      } catch (error) {
        options.logger?.warn(
          { channel: target.channel, ok: outcome.ok, releaseId: outcome.releaseId, err: error instanceof Error ? error.message : String(error) },
          'command reply not delivered',
        );
      }
    },
  };
}
