// `/canary train start` as a chat slash command: the chat user must map to a GitLab user who passes
// the approvals policy of every member bringing an image; the runner is asked only then.

import { describe, expect, it } from 'vitest';
import { createChatCommandHandler } from '../../src/chatops/handle-chat-command.js';
import type { ChatRequest } from '../../src/chatops/chat-request.js';
import type { IdentityResolver } from '../../src/chatops/identity.js';
import type { CommandOutcome } from '../../src/core/ports.js';
import type { Actor } from '../../src/core/release.js';
import type { TrainDefinition } from '../../src/core/train/train-definition.js';
import type { TrainMemberStart, TrainRun } from '../../src/core/train/train-run.js';
import { definitionFixture } from './release-fixture.js';

const policy = { minAccessLevel: 'maintainer' as const, users: [], groups: [], allowAuthor: false };
const reviews = definitionFixture({ approvals: policy });
const ratings = { ...definitionFixture({ approvals: policy }), name: 'ratings', trigger: { ...reviews.trigger, image: 'registry.example.com/ratings' } };
const train = { name: 'lane', members: ['reviews', 'ratings'] } as unknown as TrainDefinition;

function world(levels: Record<string, number | null>, mapped = true) {
  const replies: CommandOutcome[] = [];
  const starts: Array<{ name: string; starts: Record<string, TrainMemberStart>; actor: Actor | null }> = [];
  const identity: IdentityResolver = {
    async resolve() {
      return mapped ? { kind: 'mapped', user: { id: 7, username: 'rm', name: 'RM', state: 'active' }, via: 'mapping' } : { kind: 'unmapped', message: 'ask an admin to map you' };
    },
  };
  const handler = createChatCommandHandler({
    engine: { list: async () => [], command: async () => undefined },
    identity,
    gitlab: {
      memberAccessLevel: async (project) => levels[String(project)] ?? null,
      groupMemberAccessLevel: async () => null,
      getMergeRequest: async () => null,
    },
    replier: { reply: async (_target, outcome) => void replies.push(outcome) },
    trains: {
      runner: {
        trains: [train],
        definitions: [reviews, ratings],
        start: async (name, memberStarts, actor) => {
          starts.push({ name, starts: memberStarts, actor });
          return { ok: true, run: { id: 'lane-1', members: [{ name: 'reviews', image: memberStarts.reviews?.image ?? null }, { name: 'ratings', image: null }] } as unknown as TrainRun };
        },
      },
    },
  });
  const send = (text: string) => handler({ channel: 'slack', userId: 'U1', userName: 'rm', text, responseUrl: 'http://127.0.0.1:1/r', receivedAt: 0 } satisfies ChatRequest);
  return { replies, starts, send };
}

describe('/canary train start in chat', () => {
  it('starts the train with the tags as images, the chat user in the actor', async () => {
    const w = world({ [String(reviews.trigger.project)]: 40 });

    await w.send('train start lane reviews=v2');

    expect(w.starts).toEqual([{ name: 'lane', starts: { reviews: { image: `${reviews.trigger.image}:v2` } }, actor: { username: 'rm', userId: 7, channel: 'slack', chatUser: 'rm (U1)' } }]);
    expect(w.replies).toEqual([{ ok: true, message: `Train lane started as lane-1: reviews ${reviews.trigger.image}:v2, ratings (rides on stable).` }]);
  });

  it.each([
    ['a developer', { [String(reviews.trigger.project)]: 30 }, true, 'train start lane reviews=v2', 'Refused for reviews: approvals.minAccessLevel'],
    ['an unmapped chat user', {}, false, 'train start lane reviews=v2', 'Refused: ask an admin to map you'],
    ['an unknown train', {}, true, 'train start nope reviews=v2', 'There is no release train nope (trains: lane).'],
    ['a non-member', {}, true, 'train start lane details=v2', 'details is not a member of train lane'],
    ['a malformed member', {}, true, 'train start lane reviews', 'member=tag'],
  ])('refuses %s and starts nothing', async (_who, levels, mapped, text, sentence) => {
    const w = world(levels, mapped);

    await w.send(text);

    expect(w.starts).toEqual([]);
    expect(w.replies).toHaveLength(1);
    expect(w.replies[0]).toMatchObject({ ok: false });
    expect(w.replies[0]?.message).toContain(sentence);
  });
});
