// The release engine with the real Istio adapter and the real GitLab write-back: a mesh that would
// ignore the release's weights (a Service port Istio treats as TCP, pods without a sidecar) fails the
// release at pre-flight with no Kubernetes write, and the MR note carries the sentence that says
// what to change.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../../src/engine/create-engine.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { createGitLabWriteback, type GitLabWriteback } from '../../src/gitlab/gitlab-writeback.js';
import { ClusterRegistry } from '../../src/mesh/cluster-registry.js';
import { IstioTrafficRouter } from '../../src/mesh/traffic-router.js';
import { KubeWorkloadController } from '../../src/mesh/workload-controller.js';
import { seedBookinfo } from '../mesh/harness.js';
import { namespace, service } from '../mesh/fixtures.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { testRedis } from '../support/redis.js';

let gitlab: GitLabApiServer;
let kube: KubeApiServer;
let redis: Redis;
let writeback: GitLabWriteback;
let engine: Engine;

beforeAll(async () => {
  gitlab = await startGitLabApiServer();
  gitlab.seed({ users: [{ id: 8, username: 'bob' }], projects: [{ id: 42, path: 'bookinfo/reviews' }], mergeRequests: [1, 2].map((iid) => ({ projectId: 42, iid, authorId: 8 })) });
  kube = await KubeApiServer.start();
  const registry = ClusterRegistry.fromEnvironment({ KUBECONFIG: kube.writeKubeconfig() });
  const { url, prefix } = testRedis();
  redis = new Redis(url);
  writeback = createGitLabWriteback({ api: createGitLabClient({ url: gitlab.url, token: gitlab.token }), redis, prefix, links: {}, outbox: { pollMs: 50, backoffBaseMs: 50, backoffMaxMs: 200 } });
  writeback.start();
  const ports = { ...fakePorts(), router: new IstioTrafficRouter(registry), workloads: new KubeWorkloadController(registry), reporter: writeback.reporter };
  engine = await startTestEngine({ redisUrl: url, prefix: `${prefix}-engine`, ports });
});

afterAll(async () => {
  await engine.close();
  await writeback.close();
  redis.disconnect();
  await kube.close();
  await gitlab.close();
});

const cases = [
  {
    iid: 1,
    tag: 'a1b2c3d4',
    arrange: () => kube.seed(service([{ name: 'web', port: 9080 }])),
    sentence: 'Service reviews port 9080 ("web") is treated by Istio as plain TCP, so weights and header matches would do nothing: name it http-<suffix>, http2-<suffix> or grpc-<suffix>, or set appProtocol: http (http2, grpc)',
  },
  {
    iid: 2,
    tag: 'b2c3d4e5',
    arrange: () => kube.seed(namespace({ 'istio-injection': 'disabled' })),
    sentence: 'Namespace bookinfo has istio-injection=disabled, so the stable pods (Deployment reviews-primary) get no Istio sidecar: label the namespace istio-injection=enabled (or istio.io/rev=<revision>)',
  },
];

describe('mesh pre-flight in a release', () => {
  it.each(cases)('fails at pre-flight with zero writes and the sentence in the note (MR !$iid)', async ({ iid, tag, arrange, sentence }) => {
    seedBookinfo(kube);
    kube.seed(service());
    kube.seed(namespace());
    arrange();
    kube.clearRecord();

    await engine.trigger(triggerFor(canaryDefinition(), tag, { projectId: 42, iid }));
    const release = await waitFor(async () => (await engine.list({ service: 'reviews' })).find((candidate) => candidate.image.endsWith(tag)));
    const ended = await waitForEnd(engine, release.id);

    expect(ended.state).toBe('failed');
    expect(ended.reason).toContain(sentence);
    expect(kube.writes()).toHaveLength(0);
    await vi.waitFor(() => expect(gitlab.notes(42, iid)[0]?.body).toContain(sentence), { timeout: 10_000 });
  });
});
