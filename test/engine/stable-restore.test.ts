// A promotion whose stable rollout fails, run by the engine on real Redis with the in-memory ports:
// the rollback puts 100 % on stable, then the stable Deployment's previous image back, then scales
// the canary down (issue 3, DESIGN §5).

import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/create-engine.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts, type FakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

const { url } = testRedis();
const engines: Engine[] = [];
let counter = 0;

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

/** Records traffic writes and stable/canary changes in one sequence, as the cluster would see them. */
function recordOrder(ports: FakePorts): string[] {
  const order: string[] = [];
  const { router, workloads } = ports;
  const setTraffic = router.setTraffic.bind(router);
  const ensureStable = workloads.ensureStable.bind(workloads);
  const scaleCanary = workloads.scaleCanary.bind(workloads);
  router.setTraffic = async (target, traffic) => {
    await setTraffic(target, traffic);
    order.push(`traffic canary=${traffic.weights.canary}`);
  };
  workloads.ensureStable = async (target, image) => {
    const status = await ensureStable(target, image);
    order.push(`stable ${image} ${status.state}`);
    return status;
  };
  workloads.scaleCanary = async (target, replicas) => {
    await scaleCanary(target, replicas);
    order.push(`canary replicas=${replicas}`);
  };
  return order;
}

async function run(ports: FakePorts, service: string, tag: string) {
  const engine = await startTestEngine({ redisUrl: url, prefix: `${testRedis().prefix}-restore-${++counter}`, ports });
  engines.push(engine);
  await engine.trigger(triggerFor(canaryDefinition({ name: service, steps: [{ kind: 'setWeight', weight: 20 }] }), tag));
  const [release] = await waitFor(async () => {
    const list = await engine.list({ service });
    return list.length > 0 ? list : null;
  });
  return waitForEnd(engine, release?.id ?? '');
}

describe('a failed promotion on the engine', () => {
  it('ends with the stable Deployment back on its previous image, restored after 100 % stable and before the scale-down', async () => {
    const ports = fakePorts();
    const old = 'registry.example.com/bookinfo/pay:0ld00000';
    const broken = 'registry.example.com/bookinfo/pay:b0rken01';
    ports.workloads.stableImage.set('pay', old);
    ports.workloads.failingStableImages.add(broken);
    const order = recordOrder(ports);

    const release = await run(ports, 'pay', 'b0rken01');

    expect(release.state).toBe('rolled-back');
    expect(release.reason).toBe(`stable rollout failed during promotion: ${broken}: ProgressDeadlineExceeded (ROLLOUT_FAILED)`);
    expect(release.stableImageBefore).toBe(old);
    expect(ports.workloads.stableImage.get('pay')).toBe(old);
    expect(ports.workloads.canaryReplicas.get('pay')).toBe(0);
    expect(order).toEqual([
      'traffic canary=20',
      `stable ${broken} failed`,
      'traffic canary=0',
      `stable ${old} ready`,
      'canary replicas=0',
    ]);
    expect(release.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['stable-image', 'restoring-stable', 'stable-restored']));
  });

  it('without a known previous image keeps today\'s behaviour and says so in the audit', async () => {
    const ports = fakePorts();
    const broken = 'registry.example.com/bookinfo/cart:b0rken02';
    ports.workloads.failingStableImages.add(broken);
    const order = recordOrder(ports);

    const release = await run(ports, 'cart', 'b0rken02');

    expect(release.state).toBe('rolled-back');
    expect(release.stableImageBefore ?? null).toBeNull();
    expect(order).toEqual(['traffic canary=20', `stable ${broken} failed`, 'traffic canary=0', 'canary replicas=0']);
    expect(release.audit.find((a) => a.action === 'stable-not-restored')?.detail).toContain('unknown');
  });
});
