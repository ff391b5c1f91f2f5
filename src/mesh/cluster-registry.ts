// One set of API clients per kubeconfig context. `default` is the current context; a name that is
// not a context is refused before any call.

import { AppsV1Api, ApisApi, CoreV1Api, CustomObjectsApi, EventsV1Api, Health, KubeConfig } from '@kubernetes/client-node';
import { CanarybotError } from '../core/errors.js';

export interface ClusterClient {
  /** Context name as given in the definition (`default` included). */
  cluster: string;
  kubeConfig: KubeConfig;
  apps: AppsV1Api;
  /** Services and Namespaces, read by pre-flight only. */
  core: CoreV1Api;
  apis: ApisApi;
  custom: CustomObjectsApi;
  events: EventsV1Api;
  /** Memo for the served networking.istio.io version (see istio-version.ts). */
  istioVersion?: Promise<string>;
}

export class ClusterRegistry {
  private readonly clients = new Map<string, ClusterClient>();

  constructor(private readonly base: KubeConfig) {}

  /** From the kubeconfig file(s) in KUBECONFIG, else the in-cluster service account. */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): ClusterRegistry {
    const kubeConfig = new KubeConfig();
    const paths = (env.KUBECONFIG ?? '').split(':').filter((path) => path !== '');
    if (paths.length === 0) kubeConfig.loadFromCluster();
    for (const [i, path] of paths.entries()) {
      if (i === 0) kubeConfig.loadFromFile(path);
      else {
        const more = new KubeConfig();
        more.loadFromFile(path);
        kubeConfig.mergeConfig(more, true);
      }
    }
    return new ClusterRegistry(kubeConfig);
  }

  contexts(): string[] {
    return this.base.getContexts().map((context) => context.name);
  }

  client(cluster: string): ClusterClient {
    const known = this.clients.get(cluster);
    if (known) return known;
    const context = cluster === 'default' ? this.base.getCurrentContext() : cluster;
    if (cluster === 'default' && !context) {
      throw new CanarybotError('UNKNOWN_CLUSTER', 'cluster default means the current kubeconfig context, but the kubeconfig sets no current-context');
    }
    if (!this.contexts().includes(context)) {
      const names = this.contexts().join(', ') || 'none';
      throw new CanarybotError('UNKNOWN_CLUSTER', `no kubeconfig context named ${cluster} (known: ${names})`);
    }
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: this.base.clusters,
      users: this.base.users,
      contexts: this.base.contexts,
      currentContext: context,
    });
    const client: ClusterClient = {
      cluster,
      kubeConfig,
      apps: kubeConfig.makeApiClient(AppsV1Api),
      core: kubeConfig.makeApiClient(CoreV1Api),
      apis: kubeConfig.makeApiClient(ApisApi),
      custom: kubeConfig.makeApiClient(CustomObjectsApi),
      events: kubeConfig.makeApiClient(EventsV1Api),
    };
    this.clients.set(cluster, client);
    return client;
  }

  /** Whether the cluster's API server answers /readyz within the timeout (for the bot's own /readyz). */
  async reachable(cluster: string, timeoutMs = 3000): Promise<boolean> {
    try {
      const { kubeConfig } = this.client(cluster);
      return await new Health(kubeConfig).readyz({ signal: AbortSignal.timeout(timeoutMs) } as never);
    } catch {
      return false;
    }
  }
}
