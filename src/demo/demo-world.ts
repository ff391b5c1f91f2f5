// Everything the demo bot talks to, started in this process: Redis (REDIS_URL, else a throwaway
// redis-server), the Kubernetes API simulator seeded with Bookinfo's `reviews`, the GitLab API
// simulator with the project, its merge requests and people, the config repository
// platform/k8s-config applied by a simulated Argo CD, and the simulated Istio traffic.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitLabApiServer, type GitLabApiServer } from '../sim/gitlab-api-server.js';
import { SimulatedArgoCd } from '../sim/gitops-controller.js';
import { KubeApiServer } from '../sim/kube-api-server.js';
import { ARGO_APPLICATION, BASELINE, BOT_USER, CANARY, CONFIG_PROJECT, DEMO_DEFINITION, gitlabSeed, kubeSeed, NAMESPACE, routeShare, SERVICE, STABLE } from './bookinfo.js';
import { SimulatedTraffic } from './simulated-traffic.js';
import { startLocalRedis, type LocalRedis } from './start-redis.js';

export interface DemoWorld {
  redisUrl: string;
  /** True when this process started the redis-server. */
  ownRedis: boolean;
  kube: KubeApiServer;
  kubeconfig: string;
  gitlab: GitLabApiServer;
  traffic: SimulatedTraffic;
  /** Argo CD applying platform/k8s-config's chart to the stable Deployment, self-healing every second. */
  argo: SimulatedArgoCd;
  pipelinesDir: string;
  webhookSecret: string;
  close(): Promise<void>;
}

export async function startDemoWorld(env: Record<string, string | undefined>): Promise<DemoWorld> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    let redis: LocalRedis | null = null;
    const given = env.REDIS_URL;
    if (!given) {
      redis = await startLocalRedis();
      cleanups.push(() => redis?.stop());
    }

    const kube = await KubeApiServer.start({ rolloutDelayMs: 300, tls: false });
    cleanups.push(() => kube.close());
    for (const object of kubeSeed()) kube.seed(object);
    kube.clearRecord();
    const kubeconfig = kube.writeKubeconfig([kube.cluster('demo')]);

    const gitlab = await startGitLabApiServer({ botUser: BOT_USER, token: `glpat-demo-${randomBytes(8).toString('hex')}` });
    cleanups.push(() => gitlab.close());
    gitlab.seed(gitlabSeed());

    const argo = new SimulatedArgoCd({ kube, gitlab, application: ARGO_APPLICATION, repository: { projectId: CONFIG_PROJECT.id, branch: 'main', path: CONFIG_PROJECT.chart }, intervalMs: 1000, pollMs: 50 });
    argo.start();
    cleanups.push(() => argo.stop());

    const traffic = new SimulatedTraffic({
      namespace: NAMESPACE,
      stable: STABLE.deployment,
      canary: CANARY.deployment,
      baseline: BASELINE.deployment,
      requestsPerSecond: 50,
      share: () => routeShare(kube.object('VirtualService', NAMESPACE, SERVICE)),
    });

    const pipelinesDir = mkdtempSync(join(tmpdir(), 'canarybot-demo-pipelines-'));
    cleanups.push(() => rmSync(pipelinesDir, { recursive: true, force: true }));
    writeFileSync(join(pipelinesDir, `${SERVICE}.yaml`), DEMO_DEFINITION);

    return {
      redisUrl: given ?? (redis as LocalRedis).url,
      ownRedis: !given,
      kube,
      kubeconfig,
      gitlab,
      traffic,
      argo,
      pipelinesDir,
      webhookSecret: randomBytes(16).toString('hex'),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
