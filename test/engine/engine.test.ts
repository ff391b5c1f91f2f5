import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/engine/create-engine.js';
import { createMetrics } from '../../src/metrics.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { collapse, FAST_TIMING, startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

const { url } = testRedis();
const engines: Engine[] = [];
let counter = 0;

/** A prefix per test: each test gets its own queue and records. */
function freshPrefix(): string {
  return `${testRedis().prefix}-${++counter}`;
}

async function engineWith(prefix: string, ports = fakePorts(), extra: { concurrency?: number } = {}): Promise<Engine> {
  const engine = await startTestEngine({ redisUrl: url, prefix, ports, ...extra });
  engines.push(engine);
  return engine;
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

async function onlyRelease(engine: Engine, service: string): Promise<string> {
  const [release] = await waitFor(async () => {
    const list = await engine.list({ service });
    return list.length > 0 ? list : null;
  });
  return release?.id ?? '';
}

describe('release engine on real Redis', () => {
  it('runs a full canary release to promotion', async () => {
    const ports = fakePorts();
    const metrics = createMetrics();
    const prefix = freshPrefix();
    const engine = await startTestEngine({ redisUrl: url, prefix, ports, metrics });
    engines.push(engine);

    const result = await engine.trigger(triggerFor(canaryDefinition(), 'abc12345'));
    const id = await onlyRelease(engine, 'reviews');
    const release = await waitForEnd(engine, id);

    expect(result).toEqual({ enqueued: true });
    expect(release.state).toBe('succeeded');
    expect(collapse(ports.router.weightsOf('reviews'))).toEqual([10, 50, 100, 0]);
    expect(collapse(ports.workloads.calls.map((c) => c.op))).toEqual(['ensure-canary', 'ensure-stable', 'scale-canary']);
    expect(ports.workloads.stableImage.get('reviews')).toBe('registry.example.com/bookinfo/reviews:abc12345');
    expect(ports.gates.checks.length).toBeGreaterThanOrEqual(2);
    expect(ports.reporter.events.map((e) => e.event)).toContain('promoted');
    expect(release.audit.map((a) => a.action)).toContain('created');
    expect(await engine.list({ state: 'live' })).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('canarybot_releases_total')).toMatch(/service="reviews",namespace="bookinfo",cluster="[^"]+",outcome="succeeded"} 1/);
  });

  it('rolls back on a failed gate, weights to stable before the scale-down', async () => {
    const ports = fakePorts();
    ports.gates.verdicts.push('fail');
    const engine = await engineWith(freshPrefix(), ports);

    await engine.trigger(triggerFor(canaryDefinition(), 'bad00001'));
    const release = await waitForEnd(engine, await onlyRelease(engine, 'reviews'));

    expect(release.state).toBe('rolled-back');
    expect(release.reason).toMatch(/request-success-rate|fail/);
    expect(collapse(ports.router.weightsOf('reviews'))).toEqual([10, 0]);
    expect(ports.workloads.calls.at(-1)).toEqual({ op: 'scale-canary', service: 'reviews', replicas: 0 });
  });

  it('gives the same outcome with two engine processes on one Redis', async () => {
    const prefix = freshPrefix();
    const portsA = fakePorts();
    // One router shared by both processes: the mesh both would write to.
    const portsB = { ...fakePorts(), router: portsA.router };
    const a = await engineWith(prefix, portsA, { concurrency: 2 });
    const b = await engineWith(prefix, portsB, { concurrency: 2 });
    const services = ['s1', 's2', 's3', 's4'];

    for (const [i, service] of services.entries()) {
      await (i % 2 === 0 ? a : b).trigger(triggerFor(canaryDefinition({ name: service }), `cafe000${i}`));
    }
    const ended = await Promise.all(services.map(async (service) => waitForEnd(a, await onlyRelease(a, service))));

    expect(ended.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    for (const service of services) expect(collapse(portsA.router.weightsOf(service))).toEqual([10, 50, 100, 0]);
    // Both processes did part of the work.
    expect(portsA.gates.checks.length + portsA.workloads.calls.length).toBeGreaterThan(0);
    expect(portsB.gates.checks.length + portsB.workloads.calls.length).toBeGreaterThan(0);
  });

  it('turns duplicate triggers into one release', async () => {
    const engine = await engineWith(freshPrefix());
    const trigger = triggerFor(canaryDefinition({ name: 'dup', steps: [{ kind: 'pause', durationMs: 300 }, { kind: 'setWeight', weight: 100 }] }), 'beef0001');

    const results = await Promise.all(Array.from({ length: 5 }, () => engine.trigger(trigger)));
    const byKey = await Promise.all([
      engine.trigger(triggerFor(canaryDefinition({ name: 'dup2' }), 'beef0002'), { idempotencyKey: 'delivery-1' }),
      engine.trigger(triggerFor(canaryDefinition({ name: 'dup2' }), 'beef0003'), { idempotencyKey: 'delivery-1' }),
    ]);

    expect(results.filter((r) => r.enqueued)).toHaveLength(1);
    expect(results.filter((r) => r.ignored?.includes('already rolling out'))).toHaveLength(4);
    expect(await engine.list({ service: 'dup' })).toHaveLength(1);
    expect(byKey.map((r) => r.enqueued).sort()).toEqual([false, true]);
    expect(byKey.find((r) => !r.enqueued)?.ignored).toBe('duplicate delivery');
    expect(await engine.list({ service: 'dup2' })).toHaveLength(1);
  });

  it('admits a redelivery whose first delivery was claimed by a process killed before the release existed', async () => {
    const prefix = freshPrefix();
    const engine = await engineWith(prefix);
    const redis = new Redis(url);
    // What a process killed between claiming the delivery and creating the release leaves behind.
    await redis.set(`${prefix}:engine:trigger:delivery-killed`, 'claim:dead', 'EX', 1);
    redis.disconnect();

    const result = await engine.trigger(triggerFor(canaryDefinition({ name: 'killed' }), 'dead0001'), { idempotencyKey: 'delivery-killed' });
    const again = await engine.trigger(triggerFor(canaryDefinition({ name: 'killed' }), 'dead0001'), { idempotencyKey: 'delivery-killed' });

    expect(result).toEqual({ enqueued: true });
    expect(again).toEqual({ enqueued: false, ignored: 'duplicate delivery' });
    expect(await engine.list({ service: 'killed' })).toHaveLength(1);
  });

  it('supersedes the live release: rolled back first, then the newer image starts', async () => {
    const ports = fakePorts();
    const engine = await engineWith(freshPrefix(), ports);
    const definition = canaryDefinition({
      name: 'sup',
      steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: 60_000 }, { kind: 'setWeight', weight: 100 }],
    });
    await engine.trigger(triggerFor(definition, 'old00001'));
    const oldId = await onlyRelease(engine, 'sup');
    await waitFor(async () => (await engine.get(oldId))?.phase === 'pause');

    const result = await engine.trigger(triggerFor(definition, 'new00002'));
    const old = await waitForEnd(engine, oldId);
    const newer = await waitFor(async () => (await engine.list({ service: 'sup' })).find((r) => r.id !== oldId && r.phase === 'pause'));

    expect(result).toEqual({ enqueued: true });
    expect(old.state).toBe('superseded');
    expect(newer.image).toBe('registry.example.com/bookinfo/sup:new00002');
    expect(newer.createdAt).toBeGreaterThanOrEqual(old.endedAt ?? Infinity);
    // The old release's canary went back to 0 before the new one wrote anything.
    expect(collapse(ports.router.weightsOf('sup')).slice(0, 3)).toEqual([20, 0, 20]);
    expect(await engine.list({ service: 'sup', state: 'live' })).toHaveLength(1);
  });

  it('ignores a trigger whose image is already rolling out for the service', async () => {
    const engine = await engineWith(freshPrefix());
    const definition = canaryDefinition({ name: 'same', steps: [{ kind: 'pause', durationMs: 60_000 }] });

    await engine.trigger(triggerFor(definition, 'same0001'));
    const again = await engine.trigger(triggerFor(definition, 'same0001'));

    expect(again.enqueued).toBe(false);
    expect(again.ignored).toMatch(/already rolling out/);
  });

  it('lets an abort jump the line of queued work', async () => {
    const prefix = freshPrefix();
    const first = await startTestEngine({ redisUrl: url, prefix, ports: fakePorts() });
    const definition = canaryDefinition({ name: 'victim', steps: [{ kind: 'setWeight', weight: 30 }, { kind: 'pause', durationMs: 60_000 }] });
    await first.trigger(triggerFor(definition, 'vict0001'));
    const victimId = await onlyRelease(first, 'victim');
    await waitFor(async () => (await first.get(victimId))?.phase === 'pause');
    await first.close();
    const ports = fakePorts();
    const second = createEngine({ redisUrl: url, prefix, ports, timing: FAST_TIMING, concurrency: 1 });
    engines.push(second);
    for (let i = 0; i < 6; i++) await second.trigger(triggerFor(canaryDefinition({ name: `other${i}` }), `0ther00${i}`));
    await second.command({ verb: 'abort', actor: { username: 'rm', channel: 'gitlab' }, releaseId: victimId, stepIndex: 1, reason: 'bad smell', replyTo: { channel: 'slack', responseUrl: 'http://chat/x' } });

    await second.start();
    const victim = await waitForEnd(second, victimId);

    expect(victim.state).toBe('aborted');
    expect(ports.router.writes[0]).toMatchObject({ service: 'victim', traffic: { weights: { stable: 100, canary: 0 } } });
    // The abort ran before any of the six queued releases reached the router.
    expect(ports.router.calls[0]).toEqual({ op: 'set-traffic', service: 'victim' });
    expect(ports.replier.replies).toHaveLength(1);
    expect(ports.replier.replies[0]?.outcome).toMatchObject({ releaseId: victimId });
  });

  it('answers a refused command where it was given', async () => {
    const ports = fakePorts();
    const engine = await engineWith(freshPrefix(), ports);
    const definition = canaryDefinition({ name: 'appr', steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] });
    await engine.trigger(triggerFor(definition, 'appr0001'));
    const id = await onlyRelease(engine, 'appr');
    await waitFor(async () => (await engine.get(id))?.state === 'awaiting-approval');
    const replyTo = { channel: 'gitlab' as const, projectId: 1, mrIid: 2, noteId: 3 };

    await engine.command({ verb: 'approve', actor: { username: 'rm', channel: 'gitlab' }, releaseId: id, stepIndex: 0, replyTo });
    await waitFor(async () => ports.replier.replies.length === 1);
    await engine.command({ verb: 'approve', actor: { username: 'rm', channel: 'gitlab' }, releaseId: id, stepIndex: 1, replyTo });
    const release = await waitForEnd(engine, id);

    expect(ports.replier.replies[0]?.outcome.ok).toBe(false);
    expect(ports.replier.replies[1]?.outcome.ok).toBe(true);
    expect(release.state).toBe('succeeded');
  });

  it('refuses an approval written before the approval was asked for (a late or replayed comment), with the sentence and an audit entry', async () => {
    const ports = fakePorts();
    const engine = await engineWith(freshPrefix(), ports);
    const definition = canaryDefinition({ name: 'late-appr', steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] });
    await engine.trigger(triggerFor(definition, 'late0001'));
    const id = await onlyRelease(engine, 'late-appr');
    const waiting = await waitFor(async () => {
      const release = await engine.get(id);
      return release?.state === 'awaiting-approval' ? release : null;
    });
    const replyTo = { channel: 'gitlab' as const, projectId: 1, mrIid: 2, noteId: 3 };
    const rm = { username: 'rm', channel: 'gitlab' as const };

    await engine.command({ verb: 'approve', actor: rm, releaseId: id, stepIndex: 1, writtenAt: waiting.stepStartedAt - 60_000, replyTo });
    await waitFor(async () => ports.replier.replies.length === 1);
    const refused = await engine.get(id);
    await engine.command({ verb: 'approve', actor: rm, releaseId: id, stepIndex: 1, writtenAt: waiting.stepStartedAt + 1_000, replyTo });
    const release = await waitForEnd(engine, id);

    expect(ports.replier.replies[0]?.outcome).toMatchObject({ ok: false, message: expect.stringMatching(/^This approval was written at .* before canarybot asked for the approval of step 2/) });
    expect(refused?.state).toBe('awaiting-approval');
    expect(refused?.audit.at(-1)).toMatchObject({ action: 'refused', actor: rm, detail: expect.stringContaining('approve: This approval was written at') });
    expect(release.state).toBe('succeeded');
  });

  it('aborts the live releases an alert matches, once per (fingerprint, startsAt)', async () => {
    const engine = await engineWith(freshPrefix());
    const steps = [{ kind: 'setWeight' as const, weight: 10 }, { kind: 'pause' as const, durationMs: 60_000 }];
    const watched = canaryDefinition({ name: 'watched', steps, alerts: [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'watched' }] }] });
    const unwatched = canaryDefinition({ name: 'unwatched', steps });
    await engine.trigger(triggerFor(watched, 'aaaa0001'));
    await engine.trigger(triggerFor(unwatched, 'aaaa0002'));
    const watchedId = await onlyRelease(engine, 'watched');
    const unwatchedId = await onlyRelease(engine, 'unwatched');
    await waitFor(async () => (await engine.get(watchedId))?.phase === 'pause');
    const alert = { name: 'HighErrorRate', labels: { service: 'watched', severity: 'page' }, startsAt: '2026-01-01T00:00:00Z', fingerprint: 'f00d', source: 'alertmanager' };

    const first = await engine.alert(alert);
    const again = await engine.alert(alert);
    const other = await engine.alert({ ...alert, fingerprint: 'f00e', labels: { service: 'nobody' } });
    const ended = await waitForEnd(engine, watchedId);

    expect(first.releaseIds).toEqual([watchedId]);
    expect(again.releaseIds).toEqual([watchedId]);
    expect(other.releaseIds).toEqual([]);
    expect(ended.state).toBe('rolled-back');
    expect(ended.reason).toContain('HighErrorRate');
    expect((await engine.get(unwatchedId))?.state).not.toBe('rolled-back');
  });

  it('aborts a release started while an alert was already firing when Alertmanager re-sends it (dedupe per alert and release)', async () => {
    const engine = await engineWith(freshPrefix());
    const steps = [{ kind: 'setWeight' as const, weight: 10 }, { kind: 'pause' as const, durationMs: 60_000 }];
    const watched = canaryDefinition({ name: 'late', steps, alerts: [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'late' }] }] });
    const alert = { name: 'HighErrorRate', labels: { service: 'late' }, startsAt: '2026-01-01T00:00:00Z', fingerprint: 'fa11', source: 'alertmanager' };

    const before = await engine.alert(alert);
    await engine.trigger(triggerFor(watched, 'aaaa0003'));
    const id = await onlyRelease(engine, 'late');
    await waitFor(async () => (await engine.get(id))?.phase === 'pause');
    const resent = await engine.alert(alert);
    const again = await engine.alert(alert);
    const ended = await waitForEnd(engine, id);

    expect(before.releaseIds).toEqual([]);
    expect(resent.releaseIds).toEqual([id]);
    expect(again.releaseIds).toEqual([id]);
    expect(ended.state).toBe('rolled-back');
    expect(ended.audit.filter((entry) => entry.action === 'alert' || /HighErrorRate/.test(entry.detail ?? '')).length).toBeGreaterThanOrEqual(1);
  });

  it('retries a rolled-back release from its first step, unless another release holds the service', async () => {
    const ports = fakePorts();
    ports.gates.verdicts.push('fail');
    const engine = await engineWith(freshPrefix(), ports);
    const replyTo = { channel: 'slack' as const, responseUrl: 'http://chat/r' };
    const rm = { username: 'rm', channel: 'slack' as const };
    await engine.trigger(triggerFor(canaryDefinition({ name: 'again' }), 'a9a1n001'));
    const id = await onlyRelease(engine, 'again');
    await waitForEnd(engine, id);
    await engine.trigger(triggerFor(canaryDefinition({ name: 'again', steps: [{ kind: 'pause', durationMs: 60_000 }] }), 'a9a1n002'));
    const [blocker] = await waitFor(async () => {
      const live = await engine.list({ service: 'again', state: 'live' });
      return live.length === 1 ? live : null;
    });

    await engine.command({ verb: 'retry', actor: rm, releaseId: id, stepIndex: -1, replyTo });
    await waitFor(async () => ports.replier.replies.length === 1);
    await engine.command({ verb: 'abort', actor: rm, releaseId: blocker?.id ?? '', stepIndex: 0 });
    await waitForEnd(engine, blocker?.id ?? '');
    await engine.command({ verb: 'retry', actor: rm, releaseId: id, stepIndex: -1, replyTo });
    await waitFor(async () => (await engine.get(id))?.attempt === 2);
    const retried = await waitForEnd(engine, id);

    expect(ports.replier.replies[0]?.outcome).toMatchObject({ ok: false, message: expect.stringContaining('is live for') });
    expect(ports.replier.replies[1]?.outcome.ok).toBe(true);
    expect(retried.state).toBe('succeeded');
    expect(retried.image).toBe('registry.example.com/bookinfo/again:a9a1n001');
  });

  it('recovers a live release whose jobs were lost when a new engine starts', async () => {
    const prefix = freshPrefix();
    const first = await startTestEngine({ redisUrl: url, prefix, ports: fakePorts() });
    const definition = canaryDefinition({ name: 'lost', steps: [{ kind: 'setWeight', weight: 40 }, { kind: 'pause', durationMs: 200 }, { kind: 'setWeight', weight: 100 }] });
    await first.trigger(triggerFor(definition, 'l0st0001'));
    const id = await onlyRelease(first, 'lost');
    await waitFor(async () => (await first.get(id))?.phase === 'pause');
    await first.close();
    const { Queue } = await import('bullmq');
    const queue = new Queue('canarybot-releases', { connection: { url }, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
    const ports = fakePorts();

    const second = await engineWith(prefix, ports);
    const release = await waitForEnd(second, id);

    expect(release.state).toBe('succeeded');
    expect(collapse(ports.router.weightsOf('lost'))).toEqual([100, 0]);
  });
});
