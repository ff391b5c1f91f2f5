// Validates an object against the Kubernetes OpenAPI shapes, as `kubectl apply --validate=strict`
// would: unknown fields, wrong types and missing required fields are errors. The shapes come from
// @kubernetes/client-node's models, which openapi-generator made from Kubernetes' own OpenAPI spec
// (v1.34): each model's attributeTypeMap gives the fields and their types, and its declaration file
// marks the required ones (no `?`).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';

interface Attribute { name: string; baseName: string; type: string }

const modelsDir = join(dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')), 'gen', 'models');
const models = k8s as unknown as Record<string, { attributeTypeMap?: Attribute[] } | undefined>;
const requiredCache = new Map<string, Set<string>>();

/** apiVersion/kind → the model that describes it. */
const KINDS: Record<string, string> = {
  'v1/ConfigMap': 'V1ConfigMap',
  'v1/Secret': 'V1Secret',
  'v1/Service': 'V1Service',
  'v1/ServiceAccount': 'V1ServiceAccount',
  'apps/v1/Deployment': 'V1Deployment',
  'policy/v1/PodDisruptionBudget': 'V1PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'V1NetworkPolicy',
  'networking.k8s.io/v1/Ingress': 'V1Ingress',
  'rbac.authorization.k8s.io/v1/Role': 'V1Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'V1ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'V1ClusterRoleBinding',
};

// Fields typed `{ [key: string]: string }` in the models that hold resource.Quantity, which the API
// accepts as a string or a number (x-kubernetes-int-or-string).
const QUANTITY_MAPS = new Set(['limits', 'requests', 'hard', 'capacity', 'allocatable']);

function requiredFields(type: string): Set<string> {
  let required = requiredCache.get(type);
  if (!required) {
    const declaration = readFileSync(join(modelsDir, `${type}.d.ts`), 'utf8');
    required = new Set([...declaration.matchAll(/^\s+'([A-Za-z0-9_$]+)': /gm)].map((m) => m[1]!));
    requiredCache.set(type, required);
  }
  return required;
}

// Custom resources have no client-node model: the fields of prometheus-operator's ServiceMonitor
// (monitoring.coreos.com/v1 API reference) that a chart may set, checked the same way.
const SERVICE_MONITOR_SPEC = new Set(['jobLabel', 'targetLabels', 'podTargetLabels', 'endpoints', 'selector', 'namespaceSelector', 'sampleLimit', 'targetLimit', 'labelLimit', 'labelNameLengthLimit', 'labelValueLengthLimit', 'attachMetadata', 'scrapeProtocols', 'scrapeClass', 'bodySizeLimit', 'keepDroppedTargets', 'selectorMechanism', 'fallbackScrapeProtocol']);
const SERVICE_MONITOR_ENDPOINT = new Set(['port', 'targetPort', 'path', 'scheme', 'params', 'interval', 'scrapeTimeout', 'tlsConfig', 'bearerTokenFile', 'bearerTokenSecret', 'authorization', 'honorLabels', 'honorTimestamps', 'trackTimestampsStaleness', 'basicAuth', 'oauth2', 'metricRelabelings', 'relabelings', 'proxyUrl', 'noProxy', 'proxyFromEnvironment', 'proxyConnectHeader', 'followRedirects', 'enableHttp2', 'filterRunning']);

function serviceMonitorErrors(object: Record<string, unknown>, errors: string[]): void {
  for (const key of Object.keys(object)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key)) errors.push(`ServiceMonitor.${key}: unknown field`);
  }
  check(object.metadata, 'V1ObjectMeta', 'ServiceMonitor.metadata', errors, 'metadata');
  const spec = object.spec;
  if (!isObject(spec)) {
    errors.push('ServiceMonitor.spec: required');
    return;
  }
  for (const key of Object.keys(spec)) if (!SERVICE_MONITOR_SPEC.has(key)) errors.push(`ServiceMonitor.spec.${key}: unknown field`);
  if (spec.selector === undefined) errors.push('ServiceMonitor.spec.selector: required');
  else check(spec.selector, 'V1LabelSelector', 'ServiceMonitor.spec.selector', errors, 'selector');
  if (!Array.isArray(spec.endpoints)) errors.push('ServiceMonitor.spec.endpoints: expected a list');
  else {
    spec.endpoints.forEach((endpoint: unknown, index) => {
      if (!isObject(endpoint)) return errors.push(`ServiceMonitor.spec.endpoints[${index}]: expected an object`);
      for (const key of Object.keys(endpoint)) if (!SERVICE_MONITOR_ENDPOINT.has(key)) errors.push(`ServiceMonitor.spec.endpoints[${index}].${key}: unknown field`);
      for (const key of ['port', 'path', 'interval', 'scheme']) {
        if (endpoint[key] !== undefined && typeof endpoint[key] !== 'string') errors.push(`ServiceMonitor.spec.endpoints[${index}].${key}: expected a string`);
      }
      if (typeof endpoint.interval === 'string' && !/^(\d+(ms|s|m|h|d|w|y))+$/.test(endpoint.interval)) errors.push(`ServiceMonitor.spec.endpoints[${index}].interval: not a Prometheus duration`);
    });
  }
}

export function modelFor(object: Record<string, unknown>): string | undefined {
  return KINDS[`${String(object.apiVersion)}/${String(object.kind)}`];
}

/** Every way `object` breaks the OpenAPI shape of its kind, as `path: problem` lines. */
export function openApiErrors(object: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (object.apiVersion === 'monitoring.coreos.com/v1' && object.kind === 'ServiceMonitor') {
    serviceMonitorErrors(object, errors);
    return errors;
  }
  const type = modelFor(object);
  if (!type) return [`${String(object.apiVersion)} ${String(object.kind)}: no OpenAPI model known for this kind`];
  check(object, type, String(object.kind), errors, '');
  return errors;
}

function check(value: unknown, type: string, path: string, errors: string[], field: string): void {
  if (value === null || value === undefined) return; // the API server takes null as "not set"; required fields are checked by the model
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (type === 'any') return;
  if (type === 'string' || type === 'Date') {
    if (typeof value !== 'string') errors.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
  } else if (type === 'number') {
    if (typeof value !== 'number') errors.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') errors.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
  } else if (type === 'IntOrString') {
    if (typeof value !== 'string' && typeof value !== 'number') errors.push(`${path}: expected an integer or a string`);
  } else if (array) {
    if (!Array.isArray(value)) errors.push(`${path}: expected a list`);
    else value.forEach((item, index) => check(item, array[1]!, `${path}[${index}]`, errors, field));
  } else if (map) {
    if (!isObject(value)) errors.push(`${path}: expected a map`);
    else {
      const itemType = QUANTITY_MAPS.has(field) && map[1] === 'string' ? 'IntOrString' : map[1]!;
      for (const [key, item] of Object.entries(value)) check(item, itemType, `${path}.${key}`, errors, key);
    }
  } else {
    checkModel(value, type, path, errors);
  }
}

function checkModel(value: unknown, type: string, path: string, errors: string[]): void {
  const model = models[type];
  if (!model?.attributeTypeMap) {
    errors.push(`${path}: unknown model ${type}`);
    return;
  }
  if (!isObject(value)) {
    errors.push(`${path}: expected an object (${type})`);
    return;
  }
  const attributes = new Map(model.attributeTypeMap.map((attribute) => [attribute.baseName, attribute]));
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.get(key);
    if (!attribute) errors.push(`${path}.${key}: unknown field (${type})`);
    else check(item, attribute.type, `${path}.${key}`, errors, key);
  }
  for (const required of requiredFields(type)) {
    const baseName = model.attributeTypeMap.find((attribute) => attribute.name === required)?.baseName ?? required;
    if (value[baseName] === undefined || value[baseName] === null) errors.push(`${path}.${baseName}: required (${type})`);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
