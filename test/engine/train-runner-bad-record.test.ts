// A live train record this version cannot decide (written by hand, by a test, or by a future
// version) must not take the bot down: the runner that takes it over says so in the log and leaves
// it as it is. It used to reject the fire-and-forget promise of its recovery, an unhandled rejection
// that ends a Node process (found in a CI run: the cluster-slots test's stub record).

import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainRun } from '../../src/core/train/train-run.js';
import { TrainRunner } from '../../src/engine/train-runner.js';
import { createRedisTrainStore } from '../../src/engine/train-store.js';
import { waitUntil } from '../e2e/world.js';
import { fakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

const { url, prefix } = testRedis();
const redis = new Redis(url);
let runner: TrainRunner | undefined;

afterAll(async () => {
  await runner?.close();
  redis.disconnect();
});

describe('a live train record the runner cannot decide', () => {
  it('is logged as an error and left as it is, with no unhandled rejection', async () => {
    const store = createRedisTrainStore(redis, prefix);
    await store.save({ id: 'stub-run', createdAt: 1, state: 'pending' } as TrainRun);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    runner = new TrainRunner({ ports: fakePorts(), definitions: [], trains: [], store, logger: pino({ level: 'error' }, sink), timing: { leaseMs: 600, recoverIntervalMs: 100 } });

    await runner.resume();
    const logged = await waitUntil('the error in the log', () => lines.find((line) => line.includes('train run input could not be decided')), 5_000);

    expect(JSON.parse(logged)).toMatchObject({ trainRun: 'stub-run', input: 'recover' });
    expect(await store.load('stub-run')).toMatchObject({ id: 'stub-run', state: 'pending' });
  });
});
