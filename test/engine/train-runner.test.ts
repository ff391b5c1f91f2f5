import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Definition } from '../../src/core/definition.js';
import type { TrainDefinition } from '../../src/core/train/train-definition.js';
import { TrainRunner } from '../../src/engine/train-runner.js';
import { loadDefinitions } from '../../src/pipelines/load-definitions.js';
import { fakePorts } from '../support/fakes.js';

let definitions: Definition[];
let trains: TrainDefinition[];
let runner: TrainRunner | null = null;

beforeAll(async () => {
  ({ definitions, trains } = await loadDefinitions('test/fixtures/trains'));
});

afterEach(async () => {
  await runner?.close();
  runner = null;
});

const RM = { username: 'rm', channel: 'gitlab' as const };
const v2 = (service: string) => ({ image: `registry.example.com/bookinfo/${service}:v2` });

describe('TrainRunner.start refuses what would break the train', () => {
  it.each([
    ['an unknown train', 'no-such-train', { reviews: v2('reviews') }, 'no release train named no-such-train (trains: bookinfo-lane)'],
    ['a service that is not a member', 'bookinfo-lane', { details: v2('details') }, 'details is not a member of train bookinfo-lane (members: productpage, reviews, ratings)'],
    ['no new image at all', 'bookinfo-lane', {}, 'no member of train bookinfo-lane has a new image'],
  ])('%s', async (_, name, starts, message) => {
    runner = new TrainRunner({ ports: fakePorts(), definitions, trains });

    expect(await runner.start(name, starts, RM)).toEqual({ ok: false, message });
    expect(runner.list()).toEqual([]);
  });

  it('a member being released alone right now', async () => {
    runner = new TrainRunner({ ports: fakePorts(), definitions, trains, soloReleaseOf: async (service) => (service === 'reviews' ? 'reviews-41' : null) });

    expect(await runner.start('bookinfo-lane', { reviews: v2('reviews') }, RM)).toEqual({
      ok: false,
      message: 'reviews is being released on its own (reviews-41); a train member is not released alone at the same time',
    });
  });

  it('a second run of a train that is still running', async () => {
    runner = new TrainRunner({ ports: fakePorts(), definitions, trains });
    const first = await runner.start('bookinfo-lane', { reviews: v2('reviews') }, RM);
    expect(first.ok).toBe(true);

    const second = await runner.start('bookinfo-lane', { ratings: v2('ratings') }, RM);

    expect(second).toMatchObject({ ok: false, message: expect.stringMatching(/^train bookinfo-lane is already running \(bookinfo-lane-/) });
    expect(runner.liveFor('ratings')?.id).toBe(first.ok ? first.run.id : '');
  });
});
