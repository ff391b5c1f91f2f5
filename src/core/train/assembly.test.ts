import { describe, expect, it } from 'vitest';
import { assemble, describeWaiting, type AssemblyEntry } from './assembly.js';
import type { TrainDefinition } from './train-definition.js';

const MINUTE = 60_000;
const train = { name: 'bookinfo-lane', members: ['productpage', 'reviews', 'ratings'], assembleWindowMs: 30 * MINUTE } as TrainDefinition;
const entry = (service: string, tag: string, at: number): AssemblyEntry => ({ image: `registry.example.com/bookinfo/${service}:${tag}`, sha: `${tag}-sha`, mr: null, pipelineId: at, at });

describe('assemble', () => {
  it.each([
    ['the first member waits for the others until the window closes', {}, ['productpage', 'v2', 0], { kind: 'waiting', missing: ['reviews', 'ratings'], until: 30 * MINUTE }],
    [
      'the last member within the window completes it',
      { productpage: entry('productpage', 'v2', 0), reviews: entry('reviews', 'v2', 10 * MINUTE) },
      ['ratings', 'v2', 30 * MINUTE],
      { kind: 'complete' },
    ],
    [
      'a member older than the window has dropped out',
      { productpage: entry('productpage', 'v2', 0), reviews: entry('reviews', 'v2', 10 * MINUTE) },
      ['ratings', 'v2', 30 * MINUTE + 1],
      { kind: 'waiting', missing: ['productpage'], until: 40 * MINUTE },
    ],
    [
      'a newer pipeline of the same member replaces its image and does not complete it',
      { productpage: entry('productpage', 'v2', 0) },
      ['productpage', 'v3', MINUTE],
      { kind: 'waiting', missing: ['reviews', 'ratings'], until: 31 * MINUTE },
    ],
  ] as const)('%s', (_, entries, [member, tag, at], expected) => {
    const outcome = assemble(train, entries, member, entry(member, tag, at));

    expect(outcome).toMatchObject(expected);
  });

  it('starts with every member image, sha and MR', () => {
    const outcome = assemble(train, { productpage: entry('productpage', 'v2', 0), reviews: entry('reviews', 'v7', 1) }, 'ratings', entry('ratings', 'v3', 2));

    expect(outcome).toEqual({
      kind: 'complete',
      starts: {
        productpage: { image: 'registry.example.com/bookinfo/productpage:v2', sha: 'v2-sha', mr: null },
        reviews: { image: 'registry.example.com/bookinfo/reviews:v7', sha: 'v7-sha', mr: null },
        ratings: { image: 'registry.example.com/bookinfo/ratings:v3', sha: 'v3-sha', mr: null },
      },
    });
  });

  it('says what it waits for and how to start now', () => {
    const outcome = assemble(train, { reviews: entry('reviews', 'v7', 0) }, 'productpage', entry('productpage', 'v2', MINUTE));
    if (outcome.kind !== 'waiting') throw new Error('expected waiting');

    expect(describeWaiting(train, outcome, (at) => `T+${at / MINUTE}m`)).toBe(
      'train bookinfo-lane is assembling: reviews=v7, productpage=v2; waiting for ratings until T+30m (to start now, the others riding on stable: `/canary train start bookinfo-lane reviews=v7 productpage=v2`)',
    );
  });
});
