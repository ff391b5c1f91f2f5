// Fairness of the concurrency queue in the engine, on a real Redis (namespace bookinfo allows one
// release at once): a newer image superseding a queued release takes that release's place in line
// (not the back), and the releases behind are told the newer one is ahead of them.

import { afterEach, describe, expect, it } from 'vitest';
import type { Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import type { AdmissionConfig } from '../../src/engine/admission-queue.js';
import type { Engine } from '../../src/engine/create-engine.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts, type FakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

const ADMISSION: AdmissionConfig = { limits: { namespaces: { bookinfo: 1 }, tenants: {} }, tenantOf: () => null };
const RM = { username: 'rm', channel: 'gitlab' } as const;
let ports: FakePorts;
let engine: Engine | undefined;

function gated(name: string): Definition {
  return canaryDefinition({ name, steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] });
}

async function start(): Promise<Engine> {
  const { url, prefix } = testRedis();
  ports = fakePorts();
  ports.gates.fallback = 'pass';
  engine = await startTestEngine({ redisUrl: url, prefix, ports, admission: ADMISSION });
  return engine;
}

async function latest(bot: Engine, service: string, where: (release: Release) => boolean, what: string): Promise<Release> {
  return waitFor(async () => {
    const [release] = await bot.list({ service });
    return release && where(release) ? release : null;
  }, 20_000, what);
}

const inLine = (release: Release) => release.phase === 'queued' && release.wait?.kind === 'concurrency';
const awaitingApproval = (release: Release) => release.state === 'awaiting-approval';

afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe('a newer image superseding a queued release', () => {
  it('takes the queued release\'s place in line, and those behind it are told so', async () => {
    const bot = await start();
    await bot.trigger(triggerFor(gated('ratings'), 'a0000001'));
    const running = await latest(bot, 'ratings', awaitingApproval, 'ratings to run');
    await bot.trigger(triggerFor(gated('reviews'), 'r0000001'));
    const first = await latest(bot, 'reviews', inLine, 'reviews to wait in line');
    await bot.trigger(triggerFor(gated('details'), 'd0000001'));
    const behind = await latest(bot, 'details', (r) => inLine(r) && r.wait!.sentence.includes(first.id), 'details to wait behind reviews');

    await bot.trigger(triggerFor(gated('reviews'), 'r0000002'));
    const newer = await latest(bot, 'reviews', (r) => r.id !== first.id && inLine(r), 'the newer reviews to wait in line');
    const told = await waitFor(async () => {
      const release = await bot.get(behind.id);
      return release?.wait?.sentence.includes(newer.id) ? release : null;
    }, 20_000, 'details to be told the newer reviews is ahead of it');

    expect((await bot.get(first.id))?.state).toBe('superseded');
    expect(newer.wait?.sentence).not.toContain('queued before it');
    expect(told.wait?.sentence).toContain(`queued before it: reviews (${newer.id})`);
    expect(told.wait?.sentence).not.toContain(first.id);

    await bot.command({ verb: 'approve', actor: RM, releaseId: running.id, stepIndex: running.stepIndex });
    await waitForEnd(bot, running.id);
    const started = await latest(bot, 'reviews', awaitingApproval, 'the newer reviews to start first');

    expect(started.id).toBe(newer.id);
    const still = await bot.get(behind.id);
    expect([still?.phase, still?.wait?.sentence]).toEqual(['queued', expect.stringContaining(`reviews (${newer.id}) is running`)]);
  }, 90_000);
});
