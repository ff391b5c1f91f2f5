// The chart rendered (test/support/helm: Go templates with Helm's functions, values checked against
// values.schema.json first, as Helm does) for every documented values example, and every object
// checked against the Kubernetes OpenAPI shapes and the cross-references the API server or kubelet
// would refuse: selectors that miss the pod, mounts of volumes that do not exist, probes on ports
// that do not exist.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderChart, type RenderedObject } from '../support/helm/render-chart.js';
import { openApiErrors } from '../support/kube-openapi.js';

const chartDir = fileURLToPath(new URL('../../charts/canarybot/', import.meta.url));
const secretsWith = (keys: Record<string, string>) => ({ existingSecret: 'canarybot-secrets', keys: { GITLAB_TOKEN: 'gitlab-token', GITLAB_WEBHOOK_SECRET: 'gitlab-webhook-secret', ...keys } });

const EXAMPLES: Array<[string, Record<string, unknown>]> = [
  ['the defaults', {}],
  ['one replica (no PodDisruptionBudget)', { replicaCount: 1 }],
  ['as a subchart (global)', { global: { imageRegistry: 'registry.internal' } }],
  ['Sentinel with its password from the Secret', { config: { redisUrl: '' }, redis: { sentinels: 'redis-sentinel-0:26379,redis-sentinel-1:26379', sentinelName: 'mymaster' }, secrets: secretsWith({ REDIS_PASSWORD: 'redis-password', REDIS_SENTINEL_PASSWORD: 'sentinel-password' }) }],
  ['Cluster over TLS with a private CA', { config: { redisUrl: '' }, redis: { clusterNodes: 'redis-0:6379,redis-1:6379,redis-2:6379', tls: true, caConfigMap: 'redis-ca' } }],
  ['a Redis URL, chat webhooks and a webhook gate token from the Secret', { secrets: secretsWith({ REDIS_URL: 'redis-url', SLACK_WEBHOOK_URL: 'slack', SMOKE_TEST_TOKEN: 'smoke' }) }],
  ['pipelines from a ConfigMap of one’s own', { pipelines: { existingConfigMap: 'team-pipelines' } }],
  ['pipelines in the values', { pipelines: { 'reviews.yaml': 'apiVersion: canarybot/v1\nkind: ReleasePipeline\n' } }],
  ['an Ingress with TLS, extra env, envFrom and volumes', { ingress: { enabled: true, className: 'nginx', host: 'bot.example.com', annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' }, tls: [{ secretName: 'bot-tls', hosts: ['bot.example.com'] }] }, extraEnv: [{ name: 'HTTPS_PROXY', value: 'http://proxy:3128' }], envFrom: [{ configMapRef: { name: 'proxy' } }], extraVolumes: [{ name: 'x', emptyDir: {} }], extraVolumeMounts: [{ name: 'x', mountPath: '/x' }] }],
  ['Roles in listed namespaces, GitOps sync RBAC, tenants, a kubeconfig', { rbac: { namespaces: ['bookinfo', 'payments'], gitops: { argocd: { enabled: true, namespace: 'argocd' }, flux: { enabled: true, namespace: 'flux-system' } } }, tenants: { bookinfo: { namespaces: ['bookinfo'], projects: ['bookinfo/reviews'] } }, kubeconfig: { existingSecret: 'clusters', key: 'kubeconfig' } }],
  ['monitoring: ServiceMonitor, Grafana dashboard, NetworkPolicy, trusted CA', { serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prometheus' } }, grafanaDashboard: { enabled: true }, networkPolicy: { enabled: true, ingressFromNamespaces: ['gitlab-runner', 'monitoring'] }, config: { trustedCaConfigMap: 'corp-ca', alertmanagerUrl: 'http://alertmanager:9093' } }],
  ['scheduling: node selector, tolerations, affinity, spread, pod annotations', { nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['platform'] }] }] } } }, topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'x' } } }], podAnnotations: { 'prometheus.io/scrape': 'false' } }],
  ['everything at once, Redis CA and extra volumes beside a node selector and tolerations', { nodeSelector: { pool: 'platform' }, tolerations: [{ key: 'dedicated', operator: 'Exists' }], redis: { caConfigMap: 'redis-ca' }, config: { redisUrl: 'rediss://redis:6380', trustedCaConfigMap: 'corp-ca' }, extraVolumes: [{ name: 'x', emptyDir: {} }], extraVolumeMounts: [{ name: 'x', mountPath: '/x' }], tenants: { bookinfo: { namespaces: ['bookinfo'], projects: ['bookinfo/reviews'] } }, kubeconfig: { existingSecret: 'clusters' } }],
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects are walked by field name
const byKind = (objects: RenderedObject[], kind: string) => objects.filter((o) => o.object.kind === kind).map((o) => o.object as Record<string, any>);

function crossReferenceErrors(objects: RenderedObject[]): string[] {
  const errors: string[] = [];
  for (const deployment of byKind(objects, 'Deployment')) {
    const pod = deployment.spec.template;
    const labels: Record<string, string> = pod.metadata?.labels ?? {};
    for (const [key, value] of Object.entries<string>(deployment.spec.selector.matchLabels ?? {})) {
      if (labels[key] !== value) errors.push(`Deployment selector ${key}=${value} does not select its own pods`);
    }
    const volumes = new Set<string>((pod.spec.volumes ?? []).map((v: { name: string }) => v.name));
    if (volumes.size !== (pod.spec.volumes ?? []).length) errors.push('Deployment: two volumes with one name');
    for (const container of pod.spec.containers) {
      for (const mount of container.volumeMounts ?? []) {
        if (!volumes.has(mount.name)) errors.push(`container ${container.name} mounts volume ${mount.name}, which does not exist`);
      }
      const envNames = (container.env ?? []).map((e: { name: string }) => e.name);
      if (new Set(envNames).size !== envNames.length) errors.push(`container ${container.name}: an env name twice`);
      const ports = new Set((container.ports ?? []).map((p: { name: string }) => p.name));
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        const port = probe?.httpGet?.port;
        if (typeof port === 'string' && !ports.has(port)) errors.push(`a probe uses port ${port}, which the container does not name`);
      }
    }
    for (const service of byKind(objects, 'Service')) {
      for (const [key, value] of Object.entries<string>(service.spec.selector ?? {})) {
        if (labels[key] !== value) errors.push(`Service ${service.metadata.name} selector ${key}=${value} misses the pods`);
      }
    }
    for (const pdb of byKind(objects, 'PodDisruptionBudget')) {
      for (const [key, value] of Object.entries<string>(pdb.spec.selector?.matchLabels ?? {})) {
        if (labels[key] !== value) errors.push(`PodDisruptionBudget selector ${key}=${value} misses the pods`);
      }
    }
  }
  for (const monitor of byKind(objects, 'ServiceMonitor')) {
    const services = byKind(objects, 'Service').filter((service) =>
      Object.entries<string>(monitor.spec.selector.matchLabels ?? {}).every(([key, value]) => service.metadata.labels?.[key] === value));
    if (services.length === 0) errors.push('the ServiceMonitor selects no Service');
    for (const endpoint of monitor.spec.endpoints) {
      if (!services.some((service) => service.spec.ports.some((port: { name?: string }) => port.name === endpoint.port))) {
        errors.push(`the ServiceMonitor scrapes port ${endpoint.port}, which its Service does not name`);
      }
    }
  }
  const seen = new Set<string>();
  for (const { object } of objects) {
    const meta = object.metadata as { name?: string; namespace?: string } | undefined;
    const key = `${String(object.kind)}/${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
    if (seen.has(key)) errors.push(`${key} rendered twice`);
    seen.add(key);
    if (!meta?.name || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name) || meta.name.length > 253) errors.push(`${key}: not a valid name`);
  }
  return errors;
}

describe('the chart rendered (no Helm binary here: test/support/helm)', () => {
  it.each(EXAMPLES)('renders %s into objects the Kubernetes API accepts', (_name, values) => {
    const { objects, notes } = renderChart({ chartDir, values });

    expect(objects.length).toBeGreaterThan(4);
    expect(objects.flatMap(({ template, object }) => openApiErrors(object).map((e) => `${template}: ${e}`))).toEqual([]);
    expect(crossReferenceErrors(objects)).toEqual([]);
    expect(notes).not.toBe('');
  });

  it('renders a PodDisruptionBudget only with more than one replica', () => {
    expect(byKind(renderChart({ chartDir, values: { replicaCount: 2 } }).objects, 'PodDisruptionBudget')).toHaveLength(1);
    expect(byKind(renderChart({ chartDir, values: { replicaCount: 1 } }).objects, 'PodDisruptionBudget')).toHaveLength(0);
  });

  it('mounts the Redis CA and extra volumes as volumes, whatever else the pod spec holds', () => {
    const { objects } = renderChart({ chartDir, values: EXAMPLES.at(-1)![1] });
    const spec = byKind(objects, 'Deployment')[0]!.spec.template.spec;

    expect(spec.volumes.map((v: { name: string }) => v.name)).toEqual(expect.arrayContaining(['redis-ca', 'x', 'trusted-ca', 'tenants', 'kubeconfig']));
    expect(spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists' }]);
    expect(spec.nodeSelector).toEqual({ pool: 'platform' });
  });

  it('puts no secret value in the pod spec: each is a _FILE variable', () => {
    const { objects } = renderChart({ chartDir, values: { secrets: secretsWith({ REDIS_URL: 'redis-url' }) } });
    const env: Array<{ name: string; value?: string }> = byKind(objects, 'Deployment')[0]!.spec.template.spec.containers[0].env;

    expect(env.filter((e) => e.name.startsWith('GITLAB_TOKEN') || e.name.startsWith('REDIS_URL'))).toEqual([
      { name: 'GITLAB_TOKEN_FILE', value: '/etc/canarybot/secrets/GITLAB_TOKEN' },
      { name: 'REDIS_URL_FILE', value: '/etc/canarybot/secrets/REDIS_URL' },
    ]);
  });

  it('refuses values the schema refuses, before rendering, as Helm does', () => {
    expect(() => renderChart({ chartDir, values: { replicaCount: 0 } })).toThrow(/schema/);
  });

  it('fails on a missing required value with the template’s own message', () => {
    expect(() => renderChart({ chartDir, values: { config: { redisUrl: '' }, redis: { sentinels: 'a:26379' } } })).toThrow(/redis.sentinelName is required/);
  });
});
