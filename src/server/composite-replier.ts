import type { CommandOutcome, CommandReplier, ReplyTarget } from '../core/ports.js';

export interface CompositeReplierOptions {
  /** Answers in the MR thread (GitLabReplier). */
  gitlab: CommandReplier;
  /** Answers through the chat response URL (createChatReplier). */
  chat: CommandReplier;
}

/** The engine's one CommandReplier: each reply goes to the adapter of the channel the command came from. Never throws. */
export function createCompositeReplier(options: CompositeReplierOptions): CommandReplier {
  return {
    async reply(target: ReplyTarget, outcome: CommandOutcome): Promise<void> {
      const replier = target.channel === 'gitlab' ? options.gitlab : options.chat;
      await replier.reply(target, outcome).catch(() => undefined);
    },
  };
}
