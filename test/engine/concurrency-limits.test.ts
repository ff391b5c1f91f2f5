// Concurrency limits in the engine on a real Redis: a namespace allows two releases at once; the third
// waits in line (phase queued, the generic wait of kind concurrency naming the two it waits for, told
// to the MR note and chat), stays in line across an engine restart, and starts on its own when one of
// the two ends; a fourth in line is then told it waits behind nobody but the running ones.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import type { AdmissionConfig } from '../../src/engine/admission-queue.js';
import type { Engine } from '../../src/engine/create-engine.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts, type FakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

const ADMISSION: AdmissionConfig = { limits: { namespaces: { bookinfo: 2 }, tenants: {} }, tenantOf: () => null };
const { url, prefix } = testRedis();
let ports: FakePorts;
let engine: Engine;

function gated(name: string): Definition {
  return canaryDefinition({ name, steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] });
}

async function release(service: string, where: (release: Release) => boolean, what: string): Promise<Release> {
  return waitFor(async () => {
    const [latest] = await engine.list({ service });
    return latest && where(latest) ? latest : null;
  }, 20_000, what);
}

async function approve(target: Release): Promise<void> {
  await engine.command({ verb: 'approve', actor: { username: 'rm', channel: 'gitlab' }, releaseId: target.id, stepIndex: target.stepIndex });
}

beforeAll(async () => {
  ports = fakePorts();
  ports.gates.fallback = 'pass';
  engine = await startTestEngine({ redisUrl: url, prefix, ports, admission: ADMISSION });
});

afterAll(async () => {
  await engine?.close();
});

describe('maxConcurrentReleases per namespace', () => {
  it('queues the third release with what it waits for, keeps it across a restart, and starts it when a slot frees', async () => {
    await engine.trigger(triggerFor(gated('reviews'), 'r0000001'));
    await engine.trigger(triggerFor(gated('ratings'), 'a0000001'));
    const reviews = await release('reviews', (r) => r.state === 'awaiting-approval', 'reviews to await approval');
    const ratings = await release('ratings', (r) => r.state === 'awaiting-approval', 'ratings to await approval');
    await engine.trigger(triggerFor(gated('details'), 'd0000001'));
    const waiting = await release('details', (r) => r.wait?.kind === 'concurrency', 'details to wait in line');

    expect([waiting.state, waiting.phase]).toEqual(['pending', 'queued']);
    expect(waiting.wait?.sentence).toMatch(/^Waiting for a free release slot: namespace bookinfo allows 2 releases at once and (reviews|ratings) \(.+\), (reviews|ratings) \(.+\) are running\. It starts on its own when one ends\.$/);
    expect(waiting.wait?.sentence).toContain(`reviews (${reviews.id})`);
    expect(waiting.wait?.sentence).toContain(`ratings (${ratings.id})`);
    expect(ports.reporter.events.filter((e) => e.releaseId === waiting.id).map((e) => e.event)).toContain('waiting');
    expect(ports.notifier.events.filter((e) => e.releaseId === waiting.id).map((e) => e.event)).toEqual(['waiting']);
    expect(ports.router.calls.filter((call) => call.service === 'details')).toEqual([]);

    // Restart: a new engine on the same Redis finds the line as it was.
    await engine.close();
    engine = await startTestEngine({ redisUrl: url, prefix, ports, admission: ADMISSION });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const afterRestart = await engine.get(waiting.id);
    expect([afterRestart?.state, afterRestart?.phase, afterRestart?.wait?.kind]).toEqual(['pending', 'queued', 'concurrency']);

    await approve(reviews);
    expect((await waitForEnd(engine, reviews.id)).state).toBe('succeeded');
    const started = await release('details', (r) => r.state === 'awaiting-approval', 'details to start once reviews ended');

    expect(started.id).toBe(waiting.id);
    expect(started.wait ?? null).toBeNull();
    expect(started.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['queued', 'admitted']));
    const live = await engine.list({ state: 'live' });
    expect(live.filter((r) => r.namespace === 'bookinfo' && r.phase !== 'queued').length).toBeLessThanOrEqual(2);
  }, 90_000);

  it('keeps arrival order: the earliest in line gets the next slot; the later one waits behind it by name', async () => {
    const running = (await engine.list({ state: 'live' })).filter((r) => r.state === 'awaiting-approval');
    expect(running).toHaveLength(2);
    await engine.trigger(triggerFor(gated('productpage'), 'p0000001'));
    const first = await release('productpage', (r) => r.wait?.kind === 'concurrency', 'productpage to wait');
    await engine.trigger(triggerFor(gated('reviews'), 'r0000002'));
    const second = await release('reviews', (r) => r.phase === 'queued' && r.wait?.kind === 'concurrency', 'reviews to wait');

    expect(second.wait?.sentence).toContain(`queued before it: productpage (${first.id})`);

    await approve(running[0]!);
    await waitForEnd(engine, running[0]!.id);
    await release('productpage', (r) => r.state === 'awaiting-approval', 'productpage to start first');
    const still = await engine.get(second.id);
    expect(still?.phase).toBe('queued');
    expect(still?.wait?.sentence).not.toContain('queued before it');
    expect(still?.wait?.sentence).toContain(`productpage (${first.id})`);

    await engine.command({ verb: 'abort', actor: { username: 'rm', channel: 'gitlab' }, releaseId: second.id, stepIndex: -1 });
    expect((await waitForEnd(engine, second.id)).state).toBe('aborted');
  }, 90_000);
});
