// Release trains across several replicas on one real redis-server: each replica a TrainRunner with
// its own Redis connection, its own ports and the same store prefix, as `canarybot serve` runs them.
// The replica holding a run's lease drives it; the others must still reach it (alerts, commands)
// and must never start a second run of the same train.

import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Definition } from '../../src/core/definition.js';
import type { TrainDefinition } from '../../src/core/train/train-definition.js';
import type { TrainRun } from '../../src/core/train/train-run.js';
import { TrainRunner } from '../../src/engine/train-runner.js';
import { createRedisTrainStore, type TrainStore } from '../../src/engine/train-store.js';
import { loadDefinitions } from '../../src/pipelines/load-definitions.js';
import { waitUntil } from '../e2e/world.js';
import { fakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

let definitions: Definition[];
let train: TrainDefinition;
let url: string;
let prefix: string;
let reader: Redis;

beforeAll(async () => {
  const loaded = await loadDefinitions('test/fixtures/trains');
  // reviews watches its error alert; the train waits for a person after its canaries are up.
  definitions = loaded.definitions.map((definition) =>
    definition.name === 'reviews' ? { ...definition, alerts: [{ kind: 'alertmanager' as const, matchers: [{ name: 'app', op: '=' as const, value: 'reviews' }] }] } : definition,
  );
  train = { ...loaded.trains[0]!, steps: [{ kind: 'approval' }] };
  ({ url, prefix } = testRedis());
  reader = new Redis(url);
  return () => reader.disconnect();
});

interface Replica {
  runner: TrainRunner;
  /** The process dies: from now on none of its Redis calls is made (its lease lapses, its inbox is not read). */
  kill(): void;
}

const replicas: Replica[] = [];
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((replica) => replica.runner.close()));
});

/** What a replica's engine answers about members released alone: after a round trip, like the real one. */
const noSoloRelease = async (): Promise<null> => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return null;
};

function startReplica(timing: { commandTimeoutMs?: number } = {}): Replica {
  const redis = new Redis(url);
  const store = createRedisTrainStore(redis, prefix);
  let dead = false;
  const dying = new Proxy(store, {
    get(target, property: keyof TrainStore) {
      const method = target[property];
      return (...args: unknown[]) => (dead ? Promise.reject(new Error('this process is dead')) : (method as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
  const runner = new TrainRunner({ ports: fakePorts(), definitions, trains: [train], store: dying, soloReleaseOf: noSoloRelease, timing: { leaseMs: 600, recoverIntervalMs: 100, inboxPollMs: 50, ...timing } });
  const replica = {
    runner,
    kill() {
      dead = true;
    },
  };
  replicas.push(replica);
  const close = runner.close.bind(runner);
  runner.close = async () => {
    await close();
    redis.disconnect();
  };
  return replica;
}

const RM = { username: 'rm', channel: 'gitlab' as const };
const v2 = (service: string) => ({ image: `registry.example.com/bookinfo/${service}:v2` });
const reviewsAlert = { name: 'ReviewsErrors', labels: { app: 'reviews', severity: 'page' }, fingerprint: 'a1b2c3', startsAt: '2026-12-06T10:00:00Z' };

async function stored(id: string): Promise<TrainRun | null> {
  const text = await reader.get(`${prefix}:train:run:${id}`);
  return text === null ? null : (JSON.parse(text) as TrainRun);
}

async function startAwaitingApproval(driver: Replica): Promise<string> {
  const started = await driver.runner.start(train.name, { reviews: v2('reviews'), ratings: v2('ratings') }, RM);
  if (!started.ok) throw new Error(started.message);
  await waitUntil('the train to await its approval', async () => (await stored(started.run.id))?.state === 'awaiting-approval', 20_000);
  return started.run.id;
}

describe('an alert reaches a train whichever replica receives it', () => {
  it('an alert received by a replica that does not drive the run rolls the train back', async () => {
    const [a, b] = [startReplica(), startReplica()];
    await Promise.all([a.runner.resume(), b.runner.resume()]);
    const id = await startAwaitingApproval(a);

    expect(await b.runner.alerts([reviewsAlert])).toEqual([id]);

    const ended = await waitUntil('the train to roll back', async () => {
      const run = await stored(id);
      return run && run.state !== 'awaiting-approval' && run.state !== 'rolling-back' ? run : null;
    }, 20_000);
    expect(ended.state).toBe('rolled-back');
    expect(ended.reason).toBe('alert ReviewsErrors is firing for reviews');
    // Decided by the driver: no takeover happened.
    expect(ended.audit.map((entry) => entry.action)).not.toContain('resumed');
  });

  it('an alert handed to a driver that dies before deciding it is decided by the replica that takes the run over, once per alert', async () => {
    const [a, b] = [startReplica(), startReplica()];
    await Promise.all([a.runner.resume(), b.runner.resume()]);
    const id = await startAwaitingApproval(a);

    a.kill();
    expect(await b.runner.alerts([reviewsAlert])).toEqual([id]);
    // Alertmanager repeats it (and its HA peers send it too): kept once.
    expect(await b.runner.alerts([reviewsAlert])).toEqual([id]);
    expect(await reader.llen(`${prefix}:train:inbox:${id}`)).toBe(1);

    const ended = await waitUntil('the train to roll back', async () => {
      const run = await stored(id);
      return run && run.state !== 'awaiting-approval' && run.state !== 'rolling-back' ? run : null;
    }, 20_000);
    expect(ended.state).toBe('rolled-back');
    expect(ended.reason).toBe('alert ReviewsErrors is firing for reviews');
    const actions = ended.audit.map((entry) => entry.action);
    expect(actions.filter((action) => action === 'rolling-back')).toHaveLength(1);
    expect(await reader.llen(`${prefix}:train:inbox:${id}`)).toBe(0);
  });
});

describe('a train command reaches the run whichever replica receives it', () => {
  it('approve on a replica that does not drive the run: the driver decides it and its answer comes back', async () => {
    const [a, b] = [startReplica(), startReplica()];
    await Promise.all([a.runner.resume(), b.runner.resume()]);
    const id = await startAwaitingApproval(a);

    expect(await b.runner.command(id, { type: 'command', verb: 'approve', actor: RM })).toEqual({ ok: true, message: 'train bookinfo-lane approved by @rm' });
    // The driver's refusal comes back the same way.
    expect(await b.runner.command(id, { type: 'command', verb: 'approve', actor: RM })).toMatchObject({ ok: false, message: expect.stringMatching(/^train bookinfo-lane (is not waiting for an approval \(it is promoting\)|has ended \(succeeded\))$/) });

    const ended = await waitUntil('the train to be promoted', async () => {
      const run = await stored(id);
      return run?.state === 'succeeded' ? run : null;
    }, 20_000);
    expect(ended.audit.filter((entry) => entry.action === 'approved')).toEqual([expect.objectContaining({ actor: RM })]);
  });

  it('a command nobody takes within its time is answered as not applied, and is not applied when the run is taken over later', async () => {
    const a = startReplica();
    // b answers the API but does not take runs over; c comes up later and does.
    const b = startReplica({ commandTimeoutMs: 400 });
    await a.runner.resume();
    const id = await startAwaitingApproval(a);
    a.kill();

    expect(await b.runner.command(id, { type: 'command', verb: 'abort', actor: RM, reason: 'too late' })).toEqual({
      ok: false,
      delivery: 'not-applied',
      message: `train bookinfo-lane: the replica driving run ${id} did not take the command within 0.4 s, so it was not applied; try again`,
    });

    const c = startReplica();
    await c.runner.resume();
    await waitUntil('c to drive the run and read its inbox', async () => c.runner.get(id) !== undefined && (await reader.llen(`${prefix}:train:inbox:${id}`)) === 0, 20_000);
    expect(await c.runner.command(id, { type: 'command', verb: 'abort', actor: RM, reason: 'now' })).toEqual({ ok: true, message: 'train bookinfo-lane rolling back, aborted by @rm' });
    const ended = await waitUntil('the train to end', async () => {
      const run = await stored(id);
      return run?.state === 'aborted' ? run : null;
    }, 20_000);
    expect(ended.reason).toBe('aborted by @rm: now');
    expect(ended.audit.filter((entry) => entry.action === 'rolling-back')).toHaveLength(1);
  });
});

describe('two replicas starting the same train at the same moment give one run', () => {
  const liveRuns = async (): Promise<string[]> => reader.smembers(`${prefix}:train:live`);
  afterEach(async () => {
    // Each case leaves its one run live: end it so the next case may start the train again.
    const aborter = startReplica();
    await aborter.runner.resume();
    for (const id of await liveRuns()) await aborter.runner.command(id, { type: 'command', verb: 'abort', actor: RM });
    await waitUntil('no live run', async () => (await liveRuns()).length === 0, 20_000);
  });

  it('two /canary train start at once', async () => {
    const [a, b] = [startReplica(), startReplica()];
    await Promise.all([a.runner.resume(), b.runner.resume()]);

    const answers = await Promise.all([a.runner.start(train.name, { reviews: v2('reviews') }, RM), b.runner.start(train.name, { ratings: v2('ratings') }, RM)]);

    expect(answers.filter((answer) => answer.ok)).toHaveLength(1);
    const winner = answers.find((answer) => answer.ok);
    expect(answers.find((answer) => !answer.ok)).toEqual({ ok: false, message: expect.stringMatching(new RegExp(`^train bookinfo-lane is already running \\(${winner?.ok ? winner.run.id : ''}, `)) });
    expect(await liveRuns()).toHaveLength(1);
  });

  it('a /canary train start racing the start from the assembled pipelines', async () => {
    const [a, b] = [startReplica(), startReplica()];
    await Promise.all([a.runner.resume(), b.runner.resume()]);
    const pipeline = (service: string) => ({ ...v2(service), sha: `${service}-sha`, mr: null, pipelineId: 7 });
    await a.runner.assemble('reviews', pipeline('reviews'));
    await a.runner.assemble('ratings', pipeline('ratings'));

    const [assembled, started] = await Promise.all([a.runner.assemble('productpage', pipeline('productpage')), b.runner.start(train.name, { reviews: v2('reviews') }, RM)]);

    expect([assembled?.started !== null, started.ok].filter(Boolean)).toHaveLength(1);
    expect(await liveRuns()).toHaveLength(1);
  });
});

