// Fairness of the concurrency queue in the engine, on a real Redis (namespace bookinfo allows one
// release at once): a newer image superseding a queued release takes that release's place in line
// (not the back), and the releases behind are told the newer one is ahead of them; `/canary retry`
// goes through admission like a new release (it waits in line while the namespace is full).

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

/** Two approvals: one given before the abort, so the retry has one to drop. */
function twiceGated(name: string): Definition {
  return canaryDefinition({ name, steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'approval' }, { kind: 'setWeight', weight: 50 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] });
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

describe('/canary retry under a concurrency limit', () => {
  it('waits in line while the namespace is full and starts when the slot frees, as attempt 2 without approvals', async () => {
    const bot = await start();
    await bot.trigger(triggerFor(twiceGated('reviews'), 'r0000001'));
    const failed = await latest(bot, 'reviews', awaitingApproval, 'reviews to run');
    await bot.command({ verb: 'approve', actor: RM, releaseId: failed.id, stepIndex: failed.stepIndex });
    await latest(bot, 'reviews', (r) => r.approvals.length === 1 && awaitingApproval(r) && r.stepIndex > failed.stepIndex, 'reviews at its second approval');
    await bot.command({ verb: 'abort', actor: RM, releaseId: failed.id, stepIndex: -1 });
    expect((await waitForEnd(bot, failed.id)).state).toBe('aborted');
    await bot.trigger(triggerFor(gated('ratings'), 'a0000001'));
    const running = await latest(bot, 'ratings', awaitingApproval, 'ratings to take the slot');

    const reviewsCalls = () => ports.router.calls.filter((call) => call.service === 'reviews').length;
    const callsBefore = reviewsCalls();
    await bot.command({ verb: 'retry', actor: RM, releaseId: failed.id, stepIndex: -1 });
    const waiting = await latest(bot, 'reviews', (r) => r.attempt === 2 && inLine(r), 'the retry to wait in line');

    expect([waiting.id, waiting.state, waiting.approvals]).toEqual([failed.id, 'pending', []]);
    expect(waiting.wait?.sentence).toBe(`Waiting for a free release slot: namespace bookinfo allows 1 release at once and ratings (${running.id}) is running. It starts on its own when one ends.`);
    expect(reviewsCalls()).toBe(callsBefore);

    await bot.command({ verb: 'approve', actor: RM, releaseId: running.id, stepIndex: running.stepIndex });
    await waitForEnd(bot, running.id);
    const started = await latest(bot, 'reviews', (r) => r.attempt === 2 && awaitingApproval(r), 'the retry to start once ratings ended');

    expect([started.id, started.approvals, started.wait ?? null]).toEqual([failed.id, [], null]);
    expect(started.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['retry', 'queued', 'admitted']));
  }, 90_000);

  it('a release aborted while in line and retried waits again, told the same sentence as its first attempt', async () => {
    const bot = await start();
    await bot.trigger(triggerFor(gated('ratings'), 'a0000001'));
    const running = await latest(bot, 'ratings', awaitingApproval, 'ratings to run');
    await bot.trigger(triggerFor(gated('reviews'), 'r0000001'));
    const first = await latest(bot, 'reviews', inLine, 'reviews to wait in line');
    await bot.command({ verb: 'abort', actor: RM, releaseId: first.id, stepIndex: -1 });
    expect((await waitForEnd(bot, first.id)).state).toBe('aborted');

    await bot.command({ verb: 'retry', actor: RM, releaseId: first.id, stepIndex: -1 });
    const again = await latest(bot, 'reviews', (r) => r.attempt === 2 && inLine(r), 'the retry to wait in line');

    expect(again.wait?.sentence).toBe(first.wait?.sentence);
    expect(again.wait?.sentence).toContain(`ratings (${running.id}) is running`);
    expect(ports.router.calls.filter((call) => call.service === 'reviews')).toEqual([]);
  }, 90_000);
});
