// Pure pre-flight checks that catch a mesh on which traffic shifting would silently do nothing:
// a Service port Istio treats as TCP, pods without a sidecar, subsets that select other workloads'
// pods, a VirtualService bound to the wrong gateways. Each problem is one sentence that says what
// to change. Istio's rules: https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
// and https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/.

import type { ReleaseTarget } from '../core/ports.js';
import type { DeploymentShape } from './preflight.js';
import { sameHost } from './preflight.js';
import type { DestinationRuleObject } from './schema.js';
import type { HttpRoute, VirtualServiceObject } from './virtual-service-types.js';

export interface ServicePort {
  name?: string;
  port: number;
  appProtocol?: string;
}

export interface ServiceShape {
  metadata?: { name?: string };
  spec?: { ports?: ServicePort[] };
}

export interface NamespaceShape {
  metadata?: { name?: string; labels?: Record<string, string> };
}

/** The pod template as the checks read it: labels, annotations. */
export interface PodTemplateDeployment extends DeploymentShape {
  spec?: DeploymentShape['spec'] & { template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } } };
}

const HTTP_NAME = /^(http|http2|grpc|grpc-web)(-.*)?$/;
const HTTP_APP_PROTOCOLS = new Set(['http', 'http2', 'grpc', 'grpc-web', 'kubernetes.io/h2c']);

/** Istio's protocol selection: the port name's prefix, or appProtocol (which wins when set). */
export function carriesHttp(port: ServicePort): boolean {
  if (port.appProtocol !== undefined) return HTTP_APP_PROTOCOLS.has(port.appProtocol.toLowerCase());
  return HTTP_NAME.test(port.name ?? '');
}

function describePort(port: ServicePort): string {
  const name = port.name ? `"${port.name}"` : 'with no name';
  return `port ${port.port} (${name}${port.appProtocol ? `, appProtocol ${port.appProtocol}` : ''})`;
}

/** The ports the managed route sends to: its destinations' port numbers, or every port when none is given. */
function routedPorts(service: ServiceShape, route: HttpRoute | undefined, host: string): { ports: ServicePort[]; missing: number[] } {
  const all = service.spec?.ports ?? [];
  const numbers = (route?.route ?? [])
    .filter((destination) => sameHost(destination.destination.host, host))
    .map((destination) => destination.destination.port?.number)
    .filter((number): number is number => typeof number === 'number');
  if (numbers.length === 0) return { ports: all, missing: [] };
  const unique = [...new Set(numbers)];
  return { ports: all.filter((port) => unique.includes(port.port)), missing: unique.filter((number) => !all.some((port) => port.port === number)) };
}

export function servicePortProblems(target: Pick<ReleaseTarget, 'host' | 'namespace'>, service: ServiceShape | null, route: HttpRoute | undefined): string[] {
  const name = serviceName(target.host);
  if (service === null) {
    return [`Service ${name} (the host ${target.host} of target.host) does not exist in namespace ${target.namespace}: create it, or point target.host at the Service in front of the Deployments`];
  }
  const { ports, missing } = routedPorts(service, route, target.host);
  const problems = missing.map((number) => `the route sends to port ${number}, which Service ${name} does not have: fix destination.port in the VirtualService or add the port to the Service`);
  if (ports.length === 0 && missing.length === 0) {
    return [`Service ${name} has no ports: add the port the application serves, named http-<suffix> (or grpc-<suffix>)`];
  }
  const byNumber = (route?.route ?? []).some((destination) => destination.destination.port?.number !== undefined);
  const plain = ports.filter((port) => !carriesHttp(port));
  // Without a port on the route, Istio applies the http route to the Service's HTTP ports: one is enough.
  if (byNumber || plain.length === ports.length) {
    for (const port of plain) {
      problems.push(
        `Service ${name} ${describePort(port)} is treated by Istio as plain TCP, so weights and header matches would do nothing: name it http-<suffix>, http2-<suffix> or grpc-<suffix>, or set appProtocol: http (http2, grpc)`,
      );
    }
  }
  return problems;
}

/** target.host's Service name: reviews, reviews.bookinfo, reviews.bookinfo.svc.cluster.local → reviews. */
export function serviceName(host: string): string {
  return host.split('.')[0] ?? host;
}

/** The namespace a host names (reviews.other.svc.cluster.local → other), else the target's. */
export function serviceNamespace(host: string, namespace: string): string {
  const parts = host.split('.');
  return parts.length >= 2 && parts[1] !== 'svc' ? (parts[1] as string) : namespace;
}

type Injection = 'yes' | 'no' | 'unknown';

/** Istio's injection rules: namespace `istio-injection=disabled` and pod `sidecar.istio.io/inject=false` win. */
export function sidecarInjected(namespace: NamespaceShape | null, deployment: PodTemplateDeployment): Injection {
  const nsLabels = namespace?.metadata?.labels ?? {};
  const template = deployment.spec?.template?.metadata ?? {};
  const podLabels = template.labels ?? {};
  const annotations = (template as { annotations?: Record<string, string> }).annotations ?? {};
  const podInject = podLabels['sidecar.istio.io/inject'] ?? annotations['sidecar.istio.io/inject'];
  if (nsLabels['istio-injection'] === 'disabled' || podInject === 'false') return 'no';
  if (podInject === 'true' || podLabels['istio.io/rev'] !== undefined) return 'yes';
  if (nsLabels['istio-injection'] === 'enabled' || nsLabels['istio.io/rev'] !== undefined) return 'yes';
  return namespace === null ? 'unknown' : 'no';
}

export function sidecarProblems(
  target: Pick<ReleaseTarget, 'namespace'>,
  namespace: NamespaceShape | null,
  deployments: { name: string; role: string; deployment: PodTemplateDeployment }[],
): string[] {
  const problems: string[] = [];
  for (const { name, role, deployment } of deployments) {
    const injected = sidecarInjected(namespace, deployment);
    if (injected === 'yes') continue;
    const template = deployment.spec?.template?.metadata ?? {};
    const optedOut = (template.labels ?? {})['sidecar.istio.io/inject'] === 'false'
      || ((template as { annotations?: Record<string, string> }).annotations ?? {})['sidecar.istio.io/inject'] === 'false';
    if (injected === 'unknown') {
      problems.push(`cannot read Namespace ${target.namespace} to see whether the ${role} pods (Deployment ${name}) get an Istio sidecar: grant canarybot get on namespaces, or label the pod template sidecar.istio.io/inject: "true"`);
    } else if (optedOut) {
      problems.push(`the ${role} pods (Deployment ${name}) opt out of the Istio sidecar (sidecar.istio.io/inject: "false"), so the mesh cannot route to them by weight: remove that label or annotation`);
    } else if ((namespace?.metadata?.labels ?? {})['istio-injection'] === 'disabled') {
      problems.push(`Namespace ${target.namespace} has istio-injection=disabled, so the ${role} pods (Deployment ${name}) get no Istio sidecar: label the namespace istio-injection=enabled (or istio.io/rev=<revision>)`);
    } else {
      problems.push(`the ${role} pods (Deployment ${name}) get no Istio sidecar: label Namespace ${target.namespace} istio-injection=enabled (or istio.io/rev=<revision>), or the pod template sidecar.istio.io/inject: "true"`);
    }
  }
  return problems;
}

function selects(labels: Record<string, string>, podLabels: Record<string, string>): boolean {
  return Object.keys(labels).length > 0 && Object.entries(labels).every(([key, value]) => podLabels[key] === value);
}

function render(labels: Record<string, string>): string {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(',');
}

/** A subset the release uses must select no Deployment's pods but its own (its own are checked in preflight.ts). */
export function foreignSelectionProblems(
  rule: DestinationRuleObject,
  used: { subset: string; deployment: string }[],
  all: PodTemplateDeployment[],
): string[] {
  const problems: string[] = [];
  const releaseDeployments = new Set(used.map((entry) => entry.deployment));
  for (const { subset: subsetName, deployment: own } of used) {
    const labels = rule.spec.subsets?.find((candidate) => candidate.name === subsetName)?.labels ?? {};
    for (const other of all) {
      const otherName = other.metadata?.name ?? '?';
      if (otherName === own || releaseDeployments.has(otherName)) continue;
      if (selects(labels, other.spec?.template?.metadata?.labels ?? {})) {
        problems.push(`DestinationRule ${rule.metadata.name} subset ${subsetName} (${render(labels)}) also selects the pods of Deployment ${otherName}, which is not part of this release: add a label that only Deployment ${own}'s pod template carries (e.g. track) to the subset`);
      }
    }
  }
  return problems;
}

/** Gateway references in a VirtualService are `name` (its own namespace) or `namespace/name`; `mesh` is the sidecars. */
function gatewayKey(reference: string, namespace: string): string {
  if (reference === 'mesh') return 'mesh';
  return reference.includes('/') ? reference : `${namespace}/${reference}`;
}

export function bindingProblems(vs: VirtualServiceObject, route: HttpRoute | undefined, target: Pick<ReleaseTarget, 'host' | 'namespace' | 'gateways'>): string[] {
  const wanted = target.gateways ?? ['mesh'];
  const namespace = vs.metadata.namespace ?? target.namespace;
  const bound = ((vs.spec.gateways as string[] | undefined) ?? ['mesh']).map((reference) => gatewayKey(reference, namespace));
  const problems: string[] = [];
  for (const gateway of wanted) {
    const key = gatewayKey(gateway, target.namespace);
    if (!bound.includes(key)) {
      const now = bound.join(', ');
      problems.push(gateway === 'mesh'
        ? `VirtualService ${vs.metadata.name} is bound only to ${now}, so traffic between services in the mesh is not shifted: add mesh to spec.gateways, or set target.gateways to the gateway that serves this traffic`
        : `VirtualService ${vs.metadata.name} is not bound to gateway ${gateway} (it is bound to ${now}): add ${gateway} to spec.gateways`);
      continue;
    }
    const matches = route?.match ?? [];
    const restricted = matches.length > 0 && matches.every((match) => Array.isArray(match.gateways));
    if (restricted && !matches.some((match) => (match.gateways as string[]).map((reference) => gatewayKey(reference, namespace)).includes(key))) {
      problems.push(`the managed route of VirtualService ${vs.metadata.name} matches only other gateways (match[].gateways), so traffic through ${gateway} is not shifted: add ${gateway} to its match gateways`);
    }
  }
  if (wanted.includes('mesh') && !(vs.spec.hosts ?? []).some((host) => host === '*' || sameHost(host, target.host))) {
    problems.push(`VirtualService ${vs.metadata.name} does not list ${target.host} in spec.hosts, so traffic inside the mesh to ${target.host} never reaches it: add ${target.host} to spec.hosts`);
  }
  return problems;
}
