// A train run says what it waits for, like a single release's `wait`: set by the core as the runner
// drives the run (real Redis store), shown by GET /api/trains[/:id] (trainView), chat's
// `/canary train status`, the train summary and each member's MR note.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainStatus } from '../../src/chatops/format-train.js';
import type { TrainRun } from '../../src/core/train/train-run.js';
import { TrainRunner } from '../../src/engine/train-runner.js';
import { createRedisTrainStore } from '../../src/engine/train-store.js';
import { renderTrainSummary } from '../../src/gitlab/render-train-summary.js';
import { renderMemberNote } from '../../src/gitlab/train-notes.js';
import { loadDefinitions } from '../../src/pipelines/load-definitions.js';
import { trainView } from '../../src/server/routes/trains.js';
import { waitUntil } from '../e2e/world.js';
import { fakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

let redis: Redis;
let runner: TrainRunner;
const seen: TrainRun[] = [];

beforeAll(async () => {
  const { definitions, trains } = await loadDefinitions('test/fixtures/trains');
  const { url, prefix } = testRedis();
  redis = new Redis(url);
  const ports = fakePorts();
  // reviews' canary takes a while: the run waits for every canary first.
  ports.workloads.readyAfterMs = 600;
  runner = new TrainRunner({
    ports,
    definitions,
    trains: [{ ...trains[0]!, steps: [{ kind: 'approval' }] }],
    store: createRedisTrainStore(redis, prefix),
    onChange: (run) => {
      seen.push(run);
    },
  });
  await runner.resume();
});

afterAll(async () => {
  await runner.close();
  redis.disconnect();
});

describe("a train run's wait", () => {
  it('waits for every canary, then for an approval by the members policies; shown in the API, chat, the summary and the member note', async () => {
    const started = await runner.start('bookinfo-lane', { reviews: { image: 'registry.example.com/bookinfo/reviews:v2' } }, { username: 'rm', channel: 'gitlab' });
    if (!started.ok) throw new Error(started.message);
    const run = await waitUntil('the approval', async () => {
      const current = await runner.find(started.run.id);
      return current?.state === 'awaiting-approval' ? current : null;
    });

    const deploying = seen.find((candidate) => candidate.state === 'deploying' && candidate.wait);
    expect(deploying?.wait).toMatchObject({ kind: 'canaries', sentence: 'Waiting for every canary to become ready before any lane route is written: reviews not ready yet (0 of 1 ready).' });
    const wait = {
      kind: 'approval',
      sentence: "Waiting for `/canary train approve bookinfo-lane` (or promote, abort) from someone every member's approvals policy allows (reviews: maintainer).",
      since: expect.any(Number),
      until: null,
      link: null,
    };
    expect(trainView(run).wait).toEqual(wait);
    expect(trainStatus(run).split('\n')).toContain("⏳ Waiting for `/canary train approve bookinfo-lane` (or promote, abort) from someone every member's approvals policy allows (reviews: maintainer).");
    expect(renderTrainSummary(run)).toMatch(/\n> ⏳ \*\*Waiting since \d\d:\d\d UTC:\*\* Waiting for `\/canary train approve bookinfo-lane`/);
    expect(renderMemberNote(run, run.members.find((member) => member.name === 'reviews')!)).toContain("every member's approvals policy allows (reviews: maintainer).");

    await runner.command(run.id, { type: 'command', verb: 'approve', actor: { username: 'rm', channel: 'gitlab' } });
    const ended = await runner.whenEnded(run.id);
    expect(ended.wait).toBeNull();
    expect(trainView(ended).wait).toBeNull();
    expect(renderTrainSummary(ended)).not.toContain('Waiting since');
  });
});
