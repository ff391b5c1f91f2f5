import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployment, NS } from './fixtures.js';
import { seedBookinfo, startHarness, target, type MeshHarness } from './harness.js';

let mesh: MeshHarness;

beforeAll(async () => {
  mesh = await startHarness();
});

afterAll(async () => {
  await mesh.close();
});

beforeEach(() => {
  mesh.server.failRollouts(NS, 'reviews-canary', false);
  seedBookinfo(mesh.server);
});

const IMAGE = 'registry.example.com/bookinfo/reviews:abc12345';

async function untilSettled(poll: () => Promise<{ state: string }>): Promise<{ state: string; polls: number }> {
  for (let polls = 1; polls <= 100; polls += 1) {
    const status = await poll();
    if (status.state !== 'progressing') return { ...status, polls };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('rollout never settled');
}

function container(name: string, containerName: string): { image: string } | undefined {
  const object = mesh.server.object('Deployment', NS, name) as unknown as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
  return object.spec.template.spec.containers.find((candidate) => candidate.name === containerName);
}

describe('ensureCanary', () => {
  it("sets the image by container name and the stable's replica count, then reports ready", async () => {
    const first = await mesh.workloads.ensureCanary(target(), IMAGE);
    const settled = await untilSettled(() => mesh.workloads.ensureCanary(target(), IMAGE));

    expect(first.state).toBe('progressing');
    expect(settled.state).toBe('ready');
    expect(mesh.server.writes().map((write) => write.body)).toEqual([
      [
        { op: 'test', path: '/metadata/resourceVersion', value: expect.any(String) as unknown },
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: IMAGE },
        { op: 'add', path: '/spec/replicas', value: 3 },
      ],
    ]);
    expect(container('reviews-canary', 'reviews')?.image).toBe(IMAGE);
    expect(container('reviews-canary', 'sidecar')?.image).toBe('proxy:1');
  });

  it("uses the definition's replicas over the stable's", async () => {
    await mesh.workloads.ensureCanary(target({ canary: { subset: 'canary', deployment: 'reviews-canary', container: 'reviews', replicas: 1 } }), IMAGE);

    expect((mesh.server.object('Deployment', NS, 'reviews-canary')?.spec as { replicas: number }).replicas).toBe(1);
  });

  it('writes nothing when image and replicas are already set', async () => {
    await mesh.workloads.ensureCanary(target(), IMAGE, 2);
    await untilSettled(() => mesh.workloads.ensureCanary(target(), IMAGE, 2));
    mesh.server.clearRecord();

    const status = await mesh.workloads.ensureCanary(target(), IMAGE, 2);

    expect(status).toEqual({ state: 'ready' });
    expect(mesh.server.requests.map((request) => request.method)).toEqual(['GET']);
  });

  it('reports a rollout that exceeded its progress deadline as failed', async () => {
    mesh.server.failRollouts(NS, 'reviews-canary');

    await mesh.workloads.ensureCanary(target(), IMAGE);
    const settled = await untilSettled(() => mesh.workloads.ensureCanary(target(), IMAGE));

    expect(settled.state).toBe('failed');
    expect(settled).toMatchObject({ message: expect.stringContaining('exceeded its progress deadline') as unknown });
  });

  it('a concurrent writer is a transient K8S_CONFLICT; the retry re-applies', async () => {
    let raced = false;
    mesh.server.beforeHandle = ({ method }) => {
      if (method !== 'PATCH' || raced) return;
      raced = true;
      mesh.server.mutate('Deployment', NS, 'reviews-canary', (object) => {
        object.metadata.labels = { touched: 'yes' };
      });
    };

    const first = await mesh.workloads.ensureCanary(target(), IMAGE).catch((caught: unknown) => caught);
    expect(first).toMatchObject({ code: 'K8S_CONFLICT', transient: true });
    await mesh.workloads.ensureCanary(target(), IMAGE);
    mesh.server.beforeHandle = null;

    expect(mesh.server.requests.filter((request) => request.method === 'PATCH').map((request) => request.status)).toEqual([409, 200]);
    expect(mesh.server.object('Deployment', NS, 'reviews-canary')?.metadata.labels).toEqual({ touched: 'yes' });
    expect(container('reviews-canary', 'reviews')?.image).toBe(IMAGE);
  });

  it('refuses a container name the Deployment does not have', async () => {
    const error = await mesh.workloads
      .ensureCanary(target({ canary: { subset: 'canary', deployment: 'reviews-canary', container: 'app' } }), IMAGE, 1)
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'PREFLIGHT_FAILED', message: 'Deployment reviews-canary has no container named app' });
    expect(mesh.server.writes()).toHaveLength(0);
  });
});

describe('ensureStable and scaleCanary', () => {
  it('sets the stable image and waits for it', async () => {
    const first = await mesh.workloads.ensureStable(target(), IMAGE);
    const settled = await untilSettled(() => mesh.workloads.ensureStable(target(), IMAGE));

    expect(first.state).toBe('progressing');
    expect(settled.state).toBe('ready');
    expect(container('reviews-primary', 'reviews')?.image).toBe(IMAGE);
    expect((mesh.server.object('Deployment', NS, 'reviews-primary')?.spec as { replicas: number }).replicas).toBe(3);
  });

  it('scales the canary through the scale subresource, once', async () => {
    await mesh.workloads.ensureCanary(target(), IMAGE, 2);
    mesh.server.clearRecord();

    await mesh.workloads.scaleCanary(target(), 0);
    await mesh.workloads.scaleCanary(target(), 0);

    expect(mesh.server.writes().map((write) => [write.path, write.contentType, write.body])).toEqual([
      [`/apis/apps/v1/namespaces/${NS}/deployments/reviews-canary/scale`, 'application/merge-patch+json', { spec: { replicas: 0 } }],
    ]);
    expect((mesh.server.object('Deployment', NS, 'reviews-canary')?.spec as { replicas: number }).replicas).toBe(0);
  });
});

describe('currentStableImage', () => {
  it("reports the stable container's image by name, reading only", async () => {
    mesh.server.seed(deployment('reviews-primary', 'stable', 3, 'registry.example.com/bookinfo/reviews:0ld1mage'));
    mesh.server.clearRecord();

    const image = await mesh.workloads.currentStableImage(target());

    expect(image).toBe('registry.example.com/bookinfo/reviews:0ld1mage');
    expect(mesh.server.writes()).toHaveLength(0);
  });

  it('reads what is there now: after a promotion set the new image, that one', async () => {
    await mesh.workloads.ensureStable(target(), IMAGE);

    expect(await mesh.workloads.currentStableImage(target())).toBe(IMAGE);
  });

  it('names the missing container', async () => {
    const error = await mesh.workloads
      .currentStableImage(target({ stable: { subset: 'stable', deployment: 'reviews-primary', container: 'app' } }))
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'PREFLIGHT_FAILED', message: 'Deployment reviews-primary in namespace bookinfo has no container named app with an image' });
  });
});
