// No Helm binary can be installed from the registries this project reaches (Debian has no helm
// package, npm's "helm" is an unrelated router, helm.sh/helm/v4 exists only as Go source and there
// is no Go toolchain). rendered.test.ts renders the chart with test/support/helm; here the template
// text itself is checked: every .Values path they read
// is declared in values.schema.json, every variable they set is one canarybot reads, the schema
// accepts the documented values examples and refuses bad ones, and the behaviours issue 16 asks of
// the chart are pinned in the template text.

import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config.js';
import { READINESS_TIMEOUT_MS } from '../../src/server/create-bot.js';

const chart = new URL('../../charts/canarybot/', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, chart), 'utf8');
const schema = JSON.parse(read('values.schema.json')) as JsonSchema;
const values = parse(read('values.yaml')) as Record<string, unknown>;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const templates = Object.fromEntries(readdirSync(new URL('templates/', chart)).map((file) => [file, read(`templates/${file}`)]));

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
}

function declared(path: string[]): boolean {
  let node: JsonSchema | undefined = schema;
  for (const part of path) {
    if (!node) return false;
    node = node.properties?.[part] ?? Object.entries(node.patternProperties ?? {}).find(([pattern]) => new RegExp(pattern).test(part))?.[1] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
  }
  return node !== undefined;
}

describe('chart templates (checked without a Helm binary)', () => {
  it('read only values the schema declares', () => {
    const undeclared: string[] = [];
    for (const [file, text] of Object.entries(templates)) {
      for (const match of text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
        const path = match[1]!.split('.').filter(Boolean);
        if (!declared(path)) undeclared.push(`${file}: .Values.${match[1]}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('set only variables canarybot reads (or their _FILE)', () => {
    const known = new Set(CONFIG_VARIABLES.flatMap((v) => [v.name, `${v.name}_FILE`]));
    const names = [...templates['deployment.yaml']!.matchAll(/- \{ name: ([A-Z][A-Z0-9_]*),/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !known.has(name))).toEqual([]);
  });

  it('give the probes a timeout above the bot’s own readiness check timeout', () => {
    const timeouts = [...templates['deployment.yaml']!.matchAll(/timeoutSeconds: (\d+)/g)].map((m) => Number(m[1]));
    expect(timeouts).toHaveLength(2);
    for (const seconds of timeouts) expect(seconds * 1000).toBeGreaterThan(READINESS_TIMEOUT_MS);
  });

  it('fix no runAsUser (OpenShift restricted SCC) and take the pod security context from values', () => {
    expect(Object.values(templates).join('\n')).not.toMatch(/runAsUser/);
    expect(JSON.stringify(values.podSecurityContext)).not.toMatch(/runAsUser/);
    expect(templates['deployment.yaml']).toContain('{{- with .Values.podSecurityContext }}');
  });

  it('render the PodDisruptionBudget only with more than one replica', () => {
    expect(templates['pdb.yaml']!.split('\n')[0]).toBe('{{- if and .Values.podDisruptionBudget.enabled (gt (int .Values.replicaCount) 1) }}');
  });

  it('expose only /webhooks/ and /chatops/ through the Ingress', () => {
    expect(templates['ingress.yaml']).toContain('{{- range list "/webhooks/" "/chatops/" }}');
    expect([...templates['ingress.yaml']!.matchAll(/path: /g)]).toHaveLength(1);
  });

  it('ship the same Grafana dashboard as the compose setup, labelled for the sidecar', () => {
    expect(read('files/grafana-dashboard.json')).toBe(readFileSync(new URL('../../deploy/compose/grafana/dashboards/canarybot.json', import.meta.url), 'utf8'));
    expect(values.grafanaDashboard).toEqual({ enabled: false, labels: { grafana_dashboard: '1' }, annotations: {} });
  });

  it('let Prometheus scrape when the NetworkPolicy is on', () => {
    expect(templates['networkpolicy.yaml']).toContain('.Values.networkPolicy.metricsFromNamespaces');
  });
});

describe('chart values examples', () => {
  it.each<[string, Record<string, unknown>]>([
    ['as a subchart (global)', { global: { imageRegistry: 'registry.internal' } }],
    ['Sentinel with its password from the Secret', { config: { ...(values.config as object), redisUrl: '' }, redis: { ...(values.redis as object), sentinels: 'redis-sentinel-0:26379,redis-sentinel-1:26379', sentinelName: 'mymaster' }, secrets: { existingSecret: 's', keys: { GITLAB_TOKEN: 't', GITLAB_WEBHOOK_SECRET: 'w', REDIS_PASSWORD: 'redis-password', REDIS_SENTINEL_PASSWORD: 'sentinel-password' } } }],
    ['Cluster over TLS with a private CA', { config: { ...(values.config as object), redisUrl: '' }, redis: { clusterNodes: 'redis-0:6379,redis-1:6379,redis-2:6379', tls: true, caConfigMap: 'redis-ca', prefix: '{canarybot}' } }],
    ['a Redis URL, chat webhooks and a webhook gate token from the Secret', { secrets: { existingSecret: 's', keys: { GITLAB_TOKEN: 't', GITLAB_WEBHOOK_SECRET: 'w', REDIS_URL: 'redis-url', SLACK_WEBHOOK_URL: 'slack', SMOKE_TEST_TOKEN: 'smoke' } } }],
    ['pipelines from a ConfigMap of one’s own', { pipelines: { existingConfigMap: 'team-pipelines' } }],
    ['an Ingress, extra env, envFrom and volumes', { ingress: { enabled: true, className: 'nginx', host: 'bot.example.com', annotations: {}, tls: [] }, extraEnv: [{ name: 'HTTPS_PROXY', value: 'http://proxy:3128' }], envFrom: [{ configMapRef: { name: 'proxy' } }], extraVolumes: [{ name: 'x', emptyDir: {} }], extraVolumeMounts: [{ name: 'x', mountPath: '/x' }] }],
  ])('accepts %s', (_name, override) => {
    const ok = validate({ ...values, ...override });
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a malformed Sentinel list', { redis: { sentinels: 'redis-sentinel-0' } }],
    ['a secret key name that is not a variable name', { secrets: { existingSecret: 's', keys: { GITLAB_TOKEN: 't', GITLAB_WEBHOOK_SECRET: 'w', 'smoke-token': 'x' } } }],
    ['an extra volume mount without mountPath', { extraVolumeMounts: [{ name: 'x' }] }],
  ])('refuses %s', (_name, override) => {
    expect(validate({ ...values, ...override })).toBe(false);
  });
});
