import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChatReplier } from '../../src/chatops/chat-replier.js';
import type { CommandOutcome, ReplyTarget } from '../../src/core/ports.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';

let chat: ChatServer;
beforeAll(async () => {
  chat = await startChatServer();
});
afterAll(async () => {
  await chat.close();
});
beforeEach(() => {
  chat.posts.length = 0;
  chat.attempts.length = 0;
});

const retry = { attempts: 3, baseDelayMs: 5, timeoutMs: 1000 };

describe('createChatReplier', () => {
  it.each<[string, ReplyTarget['channel'], CommandOutcome, string]>([
    ['an accepted command is shown to the channel', 'slack', { ok: true, message: 'approve: done', releaseId: 'r1' }, 'in_channel'],
    ['a refusal stays with the user', 'slack', { ok: false, message: 'Refused: …', releaseId: 'r1' }, 'ephemeral'],
    ['a read answer stays with the user', 'mattermost', { ok: true, message: 'No live releases.' }, 'ephemeral'],
  ])('%s', async (_name, channel, outcome, responseType) => {
    const replier = createChatReplier({ retry });

    await replier.reply({ channel, responseUrl: `${chat.url}/r/${channel}` } as ReplyTarget, outcome);

    expect(chat.postsTo(`/r/${channel}`).map((p) => p.body)).toEqual([{ response_type: responseType, text: outcome.message }]);
  });

  it('retries a failing response_url, and never throws when it stays down', async () => {
    const replier = createChatReplier({ retry });
    chat.failNext('/r/flaky', 1, 502);
    chat.failAlways('/r/down', 503);

    await replier.reply({ channel: 'slack', responseUrl: `${chat.url}/r/flaky` }, { ok: true, message: 'x' });
    await expect(replier.reply({ channel: 'slack', responseUrl: `${chat.url}/r/down` }, { ok: true, message: 'y' })).resolves.toBeUndefined();
    await expect(replier.reply({ channel: 'slack', responseUrl: 'http://127.0.0.1:1/unreachable' }, { ok: true, message: 'z' })).resolves.toBeUndefined();
    chat.heal('/r/down');

    expect(chat.postsTo('/r/flaky')).toHaveLength(1);
    expect(chat.attempts.filter((p) => p.path === '/r/down')).toHaveLength(3);
  });

  it('hands GitLab targets to the fallback replier', async () => {
    const seen: ReplyTarget[] = [];
    const replier = createChatReplier({ retry, fallback: { reply: async (target) => void seen.push(target) } });
    const target: ReplyTarget = { channel: 'gitlab', projectId: 1, mrIid: 2, noteId: 3 };

    await replier.reply(target, { ok: true, message: 'done' });

    expect(seen).toEqual([target]);
    expect(chat.posts).toEqual([]);
  });
});
