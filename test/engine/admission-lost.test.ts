// A release whose process died between creating its record (queued, waiting for a slot) and putting
// it in line is in neither of the admission queue's sets. The engine's periodic recovery pass must
// find it while the engine runs — not only at the next restart — and start it when a slot is free.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelease } from '../../src/core/create-release.js';
import { QUEUED_PHASE } from '../../src/core/decide/queue-wait.js';
import type { AdmissionConfig } from '../../src/engine/admission-queue.js';
import type { Engine } from '../../src/engine/create-engine.js';
import { ReleaseStore } from '../../src/engine/release-store.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

const ADMISSION: AdmissionConfig = { limits: { namespaces: { bookinfo: 1 }, tenants: {} }, tenantOf: () => null };
const { url, prefix } = testRedis();
let engine: Engine;
let redis: Redis;

beforeAll(async () => {
  const ports = fakePorts();
  ports.gates.fallback = 'pass';
  engine = await startTestEngine({ redisUrl: url, prefix, ports, admission: ADMISSION });
  redis = new Redis(url);
});

afterAll(async () => {
  await engine?.close();
  await redis?.quit();
});

describe('a queued release lost before it was put in line', () => {
  it('is found by the periodic recovery pass of a running engine and started, the namespace being free', async () => {
    const definition = canaryDefinition({ name: 'reviews', steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] });
    // Its process died after the create and before the ZADD: the record alone, in neither set.
    const lost = { ...createRelease(triggerFor(definition, 'r0000001'), 'reviews-lost', Date.now()), phase: QUEUED_PHASE };
    expect((await new ReleaseStore(redis, prefix).create(lost)).ok).toBe(true);

    const started = await waitFor(async () => {
      const release = await engine.get(lost.id);
      return release && release.phase !== QUEUED_PHASE ? release : null;
    }, 15_000, 'the lost release to be admitted by a recovery pass');

    expect(started.state).not.toBe('pending');
    expect(started.audit.map((entry) => entry.action)).toContain('admitted');
  }, 30_000);
});
