import { describe, expect, it } from 'vitest';
import type { CommandOutcome, CommandReplier, ReplyTarget } from '../core/ports.js';
import { createCompositeReplier } from './composite-replier.js';

function recorder(fail = false): CommandReplier & { seen: ReplyTarget[] } {
  const seen: ReplyTarget[] = [];
  return {
    seen,
    async reply(target) {
      seen.push(target);
      if (fail) throw new Error('down');
    },
  };
}

const outcome: CommandOutcome = { ok: true, message: 'approved' };
const gitlabTarget: ReplyTarget = { channel: 'gitlab', projectId: 1, mrIid: 2, noteId: 3 };
const slackTarget: ReplyTarget = { channel: 'slack', responseUrl: 'https://hooks.slack.test/r' };
const mattermostTarget: ReplyTarget = { channel: 'mattermost', responseUrl: 'https://mm.test/r' };

describe('createCompositeReplier', () => {
  it('sends each reply to the adapter of the channel it came from', async () => {
    const gitlab = recorder();
    const chat = recorder();
    const replier = createCompositeReplier({ gitlab, chat });

    await replier.reply(gitlabTarget, outcome);
    await replier.reply(slackTarget, outcome);
    await replier.reply(mattermostTarget, outcome);

    expect(gitlab.seen).toEqual([gitlabTarget]);
    expect(chat.seen).toEqual([slackTarget, mattermostTarget]);
  });

  it('never throws into the release when an adapter fails, and logs each failed reply with its channel', async () => {
    const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const logger = { warn: (fields: Record<string, unknown>, message: string) => void warnings.push({ fields, message }) };
    const replier = createCompositeReplier({ gitlab: recorder(true), chat: recorder(true), logger: logger as never });

    await expect(replier.reply(gitlabTarget, outcome)).resolves.toBeUndefined();
    await expect(replier.reply(slackTarget, outcome)).resolves.toBeUndefined();

    expect(warnings).toEqual([
      { fields: expect.objectContaining({ channel: 'gitlab', ok: true, err: 'down' }), message: 'command reply not delivered' },
      { fields: expect.objectContaining({ channel: 'slack', ok: true, err: 'down' }), message: 'command reply not delivered' },
    ]);
  });
});
