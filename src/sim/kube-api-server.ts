// Also the Kubernetes API of `canarybot demo`; lives in src/ so it ships in dist/.
// An in-memory Kubernetes API server over HTTPS (or plain HTTP) for tests: Deployments (with /scale and /status),
// Istio VirtualServices and DestinationRules (v1, v1beta1, v1alpha3), Pods by label selector, Events
// (core/v1 and events.k8s.io/v1, one store), Argo CD Applications and Flux Kustomizations/HelmReleases/GitRepositories,
// Services (validated and defaulted as the API server does) and Namespaces (cluster-scoped).
// Real Kubernetes semantics where the bot depends on them (resourceVersion, 409/404/415/422 Status
// bodies, JSON/merge/strategic patches, rollout status, managedFields by fieldManager), bearer-token
// auth, fault injection, and a record of every request.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testCerts, type TestCerts } from './kube/certs.js';
import { writeKubeconfig, type ClusterEntry } from './kube/kubeconfig.js';
import { matchesSelector } from './kube/label-selector.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from './kube/patches.js';
import { conflict, KubeError, noRoute, unsupportedMediaType } from './kube/status.js';
import { fromEventsV1, toEventsV1, validateNewEvent } from './kube/events.js';
import { CUSTOM_KINDS, isIstio, KINDS, ObjectStore, type Kind, type Obj } from './kube/store.js';

export type { ClusterEntry } from './kube/kubeconfig.js';

export interface KubeFaults {
  /** Share (0..1) of API requests answered 500. */
  errorRate: number;
  /** Share (0..1) of writes answered 409 Conflict without being applied. */
  conflictRate: number;
  /** Extra latency added to every API request. */
  latencyMs: number;
}

export interface KubeApiServerOptions {
  token?: string;
  /** networking.istio.io/v1 served (default true); false leaves v1beta1 and v1alpha3. */
  servesIstioV1?: boolean;
  /** Time a Deployment rollout takes to complete (default 0: on the next timer tick). */
  rolloutDelayMs?: number;
  /** Answer to a failed JSON-patch `test` (409 as the bot expects; the real apiserver answers 422). */
  testFailureStatus?: 409 | 422;
  /** Seed of the fault-injection dice, so a run is reproducible. */
  seed?: number;
  /** Serve HTTPS with a throwaway CA made by the openssl CLI (default true); false serves plain HTTP (the demo). */
  tls?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  body: unknown;
  status: number;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The API server's default field manager: the user agent's first part (`kubectl-client-side-apply`, `node-fetch`…). */
function managerFromUserAgent(agent: string | undefined): string {
  const first = agent?.split('/')[0]?.trim();
  return first === undefined || first === '' ? 'unknown' : first;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

interface Route {
  kind: Kind;
  version: string;
  namespace: string;
  name?: string;
  sub?: 'scale' | 'status';
  /** Events read and written through events.k8s.io/v1 rather than core/v1. */
  eventsV1?: boolean;
}

export class KubeApiServer {
  readonly token: string;
  readonly requests: RecordedRequest[] = [];
  readonly faults: KubeFaults = { errorRate: 0, conflictRate: 0, latencyMs: 0 };
  servesIstioV1: boolean;
  testFailureStatus: 409 | 422;
  /** Runs before each authorised API request is handled, e.g. to play a concurrent writer. */
  beforeHandle: ((request: { method: string; path: string }) => void) | null = null;
  /** Runs after each successful write is stored, e.g. to check an invariant over every object written. */
  afterWrite: ((write: { method: string; kind: string; namespace: string; name: string | undefined }) => void) | null = null;
  private readonly failing = new Set<string>();
  private readonly store: ObjectStore;
  private readonly dice: () => number;
  private readonly certs: TestCerts | null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'canarybot-kube-'));
  private readonly server: Server;
  private forced: number[] = [];
  private address = '';

  private constructor(options: KubeApiServerOptions) {
    this.token = options.token ?? randomBytes(16).toString('hex');
    this.servesIstioV1 = options.servesIstioV1 ?? true;
    this.testFailureStatus = options.testFailureStatus ?? 409;
    this.dice = random(options.seed ?? 7);
    this.store = new ObjectStore({ delayMs: options.rolloutDelayMs ?? 0, failing: this.failing });
    this.certs = options.tls === false ? null : testCerts();
    const handler = (request: IncomingMessage, response: ServerResponse): void => {
      void this.handle(request, response);
    };
    this.server = this.certs ? createHttpsServer({ cert: this.certs.certPem, key: this.certs.keyPem }, handler) : createHttpServer(handler);
  }

  static async start(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
    const server = new KubeApiServer(options);
    await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve));
    server.address = `${server.certs ? 'https' : 'http'}://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
    return server;
  }

  get url(): string {
    return this.address;
  }

  /** Empty when serving plain HTTP. */
  get caPem(): string {
    return this.certs?.caPem ?? '';
  }

  cluster(name: string): ClusterEntry {
    return { name, server: this.url, caPem: this.caPem, token: this.token };
  }

  /** Write a kubeconfig (into this server's temp dir) with the given clusters; returns its path. */
  writeKubeconfig(entries: ClusterEntry[] = [this.cluster('test')], currentContext?: string): string {
    return writeKubeconfig(this.dir, entries, currentContext);
  }

  /** Successful writes (POST/PUT/PATCH/DELETE answered 2xx). */
  writes(): RecordedRequest[] {
    return this.requests.filter((request) => WRITE_METHODS.has(request.method) && request.status < 300);
  }

  clearRecord(): void {
    this.requests.length = 0;
  }

  /** Answer the next requests with these status codes (500, 409, ...), before anything else. */
  failNext(...statuses: number[]): void {
    this.forced.push(...statuses);
  }

  /** Make the rollouts of this Deployment end in ProgressDeadlineExceeded. */
  failRollouts(namespace: string, name: string, fail = true): void {
    if (fail) this.failing.add(`${namespace}/${name}`);
    else this.failing.delete(`${namespace}/${name}`);
  }

  /** Create an object afresh, replacing any of that name (no faults, no record, still validated); returns it as stored. */
  seed(object: { apiVersion?: string; kind: string; metadata: { name: string; namespace?: string } }): Obj {
    const kind = Object.values(KINDS).find((candidate) => candidate.kind === object.kind);
    if (!kind) throw new Error(`test server does not store ${object.kind}`);
    const namespace = kind.clusterScoped ? '' : object.metadata.namespace ?? 'default';
    if (this.store.get(kind, namespace, object.metadata.name)) this.store.delete(kind, namespace, object.metadata.name);
    this.store.write(kind, namespace, structuredClone(object) as unknown as Obj, { create: true });
    // A seeded Deployment is one that already runs: its rollout is over.
    if (kind.plural === 'deployments') this.store.finishRollout(kind, namespace, object.metadata.name);
    return { apiVersion: object.apiVersion, ...this.store.mustGet(kind, namespace, object.metadata.name) };
  }

  /** Change a stored object as another client would (resourceVersion bumps; validated); `operation` Apply for server-side apply. */
  mutate(kindName: string, namespace: string, name: string, change: (object: Obj) => void, manager?: string, operation?: 'Update' | 'Apply'): Obj {
    const kind = Object.values(KINDS).find((candidate) => candidate.kind === kindName);
    if (!kind) throw new Error(`test server does not store ${kindName}`);
    const scope = kind.clusterScoped ? '' : namespace;
    const object = this.store.mustGet(kind, scope, name);
    change(object);
    return this.store.write(kind, scope, object, manager === undefined ? {} : { manager, ...(operation ? { operation } : {}) });
  }

  /** Write a status as a controller does (status subresource). */
  writeStatus(kindName: string, namespace: string, name: string, status: unknown): Obj {
    const kind = Object.values(KINDS).find((candidate) => candidate.kind === kindName);
    if (!kind) throw new Error(`test server does not store ${kindName}`);
    const object = this.store.mustGet(kind, namespace, name);
    return this.store.write(kind, namespace, { ...object, status } as Obj, { statusOnly: true });
  }

  /** Delete an object as another client would (no faults, no record); absent is fine. */
  remove(kindName: string, namespace: string, name: string): void {
    const kind = Object.values(KINDS).find((candidate) => candidate.kind === kindName);
    if (!kind) throw new Error(`test server does not store ${kindName}`);
    const scope = kind.clusterScoped ? '' : namespace;
    if (this.store.get(kind, scope, name)) this.store.delete(kind, scope, name);
  }

  object(kindName: string, namespace: string, name: string): Obj | undefined {
    const kind = Object.values(KINDS).find((candidate) => candidate.kind === kindName);
    return kind ? this.store.get(kind, kind.clusterScoped ? '' : namespace, name) : undefined;
  }

  /** Stored objects of a kind in a namespace (Events in their core/v1 shape), oldest first. */
  list(kindName: string, namespace: string): Obj[] {
    const kind = Object.values(KINDS).find((candidate) => candidate.kind === kindName);
    return kind ? this.store.list(kind, namespace) : [];
  }

  /** Events in a namespace (core/v1 shape), in the order they were created. */
  events(namespace: string): Obj[] {
    return this.list('Event', namespace).sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
  }

  async close(): Promise<void> {
    this.store.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://localhost');
    const method = request.method ?? 'GET';
    const text = await readBody(request);
    const contentType = request.headers['content-type']?.split(';')[0]?.trim();
    const record: RecordedRequest = { method, path: url.pathname, query: url.search, contentType, body: undefined, status: 0 };
    this.requests.push(record);
    const send = (status: number, body: unknown): void => {
      record.status = status;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    try {
      if (request.headers.authorization !== `Bearer ${this.token}`) throw new KubeError(401, 'Unauthorized', 'Unauthorized');
      this.beforeHandle?.({ method, path: url.pathname });
      if (this.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.faults.latencyMs));
      const forced = this.forced.shift();
      if (forced !== undefined) throw new KubeError(forced, forced === 409 ? 'Conflict' : 'InternalError', `injected ${forced}`);
      if (this.faults.errorRate > 0 && this.dice() < this.faults.errorRate) throw new KubeError(500, 'InternalError', 'injected fault');
      if (text !== '') {
        try {
          record.body = JSON.parse(text);
        } catch {
          throw new KubeError(400, 'BadRequest', 'the request body is not valid JSON');
        }
      }
      const route = this.route(url.pathname);
      if (!route) {
        send(200, this.discovery(url.pathname));
        return;
      }
      if (WRITE_METHODS.has(method) && route.name && this.faults.conflictRate > 0 && this.dice() < this.faults.conflictRate) {
        throw conflict(this.store.ref(route.kind, route.name));
      }
      const manager = url.searchParams.get('fieldManager') ?? managerFromUserAgent(request.headers['user-agent']);
      const [status, body] = this.resource(method, route, url.searchParams, contentType, record.body, manager);
      send(status, body);
      if (WRITE_METHODS.has(method) && status < 300) this.afterWrite?.({ method, kind: route.kind.kind, namespace: route.namespace, name: route.name });
    } catch (error) {
      if (error instanceof KubeError) send(error.code, error.body());
      else send(500, new KubeError(500, 'InternalError', String(error)).body());
    }
  }

  private discovery(path: string): unknown {
    const istioVersions = KINDS.virtualservices.versions.filter((version) => version !== 'v1' || this.servesIstioV1);
    const group = (name: string, versions: string[]) => ({
      name,
      versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    });
    switch (path) {
      case '/readyz':
      case '/livez':
      case '/healthz':
        return 'ok';
      case '/version':
        return { major: '1', minor: '31', gitVersion: 'v1.31.0-canarybot-test' };
      case '/api':
        return { kind: 'APIVersions', versions: ['v1'] };
      case '/apis':
        return {
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups: [group('apps', ['v1']), group('events.k8s.io', ['v1']), group('networking.istio.io', istioVersions), ...CUSTOM_KINDS.map((kind) => group(kind.group, kind.versions))],
        };
      case '/apis/networking.istio.io':
        return { kind: 'APIGroup', apiVersion: 'v1', ...group('networking.istio.io', istioVersions) };
      default:
        throw noRoute();
    }
  }

  private route(path: string): Route | null {
    const apps = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments(?:\/([^/]+)(?:\/(scale|status))?)?$/.exec(path);
    if (apps) return { kind: KINDS.deployments, version: 'v1', namespace: apps[1] as string, name: apps[2], sub: apps[3] as Route['sub'] };
    const istio = /^\/apis\/networking\.istio\.io\/([^/]+)\/namespaces\/([^/]+)\/(virtualservices|destinationrules)(?:\/([^/]+)(?:\/(status))?)?$/.exec(path);
    if (istio) {
      const version = istio[1] as string;
      if (!KINDS.virtualservices.versions.includes(version) || (version === 'v1' && !this.servesIstioV1)) throw noRoute();
      const kind = KINDS[istio[3] as 'virtualservices' | 'destinationrules'];
      return { kind, version, namespace: istio[2] as string, name: istio[4], sub: istio[5] as Route['sub'] };
    }
    const core = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|services)(?:\/([^/]+))?$/.exec(path);
    if (core) return { kind: KINDS[core[2] as 'pods' | 'services'], version: 'v1', namespace: core[1] as string, name: core[3] };
    const namespaces = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(path);
    if (namespaces) return { kind: KINDS.namespaces, version: 'v1', namespace: '', name: namespaces[1] };
    const coreEvents = /^\/api\/v1\/namespaces\/([^/]+)\/events(?:\/([^/]+))?$/.exec(path);
    if (coreEvents) return { kind: KINDS.events, version: 'v1', namespace: coreEvents[1] as string, name: coreEvents[2] };
    const events = /^\/apis\/events\.k8s\.io\/v1\/namespaces\/([^/]+)\/events(?:\/([^/]+))?$/.exec(path);
    if (events) return { kind: KINDS.events, version: 'v1', namespace: events[1] as string, name: events[2], eventsV1: true };
    const custom = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+)(?:\/(status))?)?$/.exec(path);
    const kind = custom && CUSTOM_KINDS.find((candidate) => candidate.group === custom[1] && candidate.plural === custom[4]);
    if (custom && kind) {
      if (!kind.versions.includes(custom[2] as string)) throw noRoute();
      return { kind, version: custom[2] as string, namespace: custom[3] as string, name: custom[5], sub: custom[6] as Route['sub'] };
    }
    return null;
  }

  private present(route: Route, object: Obj): Obj {
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = object;
    if (route.eventsV1) return { apiVersion: 'events.k8s.io/v1', kind: 'Event', ...toEventsV1(rest as Obj) } as Obj;
    const apiVersion = route.kind.group === '' ? route.version : `${route.kind.group}/${route.version}`;
    return { apiVersion, kind: route.kind.kind, ...rest } as Obj;
  }

  /** A request body as the store keeps it (events.k8s.io/v1 Events in their core/v1 shape). */
  private stored(route: Route, body: Obj): Obj {
    return route.eventsV1 ? fromEventsV1(body) : body;
  }

  private resource(method: string, route: Route, query: URLSearchParams, contentType: string | undefined, body: unknown, manager: string): [number, unknown] {
    const { kind, namespace, name } = route;
    if (!name) {
      if (method === 'GET') {
        const items = kind.plural === 'pods' ? this.store.pods(namespace) : this.store.list(kind, namespace);
        const selected = items.filter((item) => matchesSelector(query.get('labelSelector'), (item.metadata.labels ?? {}) as Record<string, string>));
        return [200, { apiVersion: route.version, kind: `${kind.kind}List`, metadata: { resourceVersion: this.store.currentVersion() }, items: selected.map((item) => this.present(route, item)) }];
      }
      if (method === 'POST' && kind.plural !== 'pods') {
        const object = body as Obj;
        if (typeof object?.metadata?.name !== 'string' || object.metadata.name === '') {
          throw new KubeError(422, 'Invalid', `${kind.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
        }
        if (route.eventsV1) validateNewEvent(object, namespace);
        return [201, this.present(route, this.store.write(kind, namespace, { ...this.stored(route, object), kind: kind.kind }, { create: true, manager, operation: 'Update' }))];
      }
      throw new KubeError(405, 'MethodNotAllowed', `${method} is not supported on ${kind.plural}`);
    }
    if (kind.plural === 'pods') {
      if (method !== 'GET') throw new KubeError(405, 'MethodNotAllowed', 'pods are read-only here');
      const pod = this.store.pods(namespace).find((item) => item.metadata.name === name);
      if (!pod) throw new KubeError(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
      return [200, pod];
    }
    if (route.sub === 'scale') return this.scale(method, route, name, contentType, body, manager);
    const current = this.store.mustGet(kind, namespace, name);
    const statusOnly = route.sub === 'status';
    switch (method) {
      case 'GET':
        return [200, this.present(route, current)];
      case 'DELETE':
        this.store.delete(kind, namespace, name);
        return [200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: kind.group, kind: kind.plural } }];
      case 'PUT': {
        const next = body as Obj;
        const expectVersion = next.metadata?.resourceVersion as string | undefined;
        if (expectVersion === undefined && isIstio(kind)) {
          throw new KubeError(422, 'Invalid', `${kind.kind}.${kind.group} "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`);
        }
        if (next.metadata?.name !== name) throw new KubeError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
        return [200, this.present(route, this.store.write(kind, namespace, { ...this.stored(route, next), kind: kind.kind }, { expectVersion, statusOnly, manager }))];
      }
      case 'PATCH': {
        const patched = this.patch(route, current, contentType, body);
        return [200, this.present(route, this.store.write(kind, namespace, this.stored(route, patched), { expectVersion: patched.metadata.resourceVersion as string | undefined, statusOnly, manager }))];
      }
      default:
        throw new KubeError(405, 'MethodNotAllowed', `${method} is not supported`);
    }
  }

  /** Apply a PATCH body to the object as the client sees it; resourceVersion left in it is a precondition. */
  private patch(route: Route, current: Obj, contentType: string | undefined, body: unknown): Obj {
    const visible = this.present(route, current);
    let patched: Obj;
    try {
      if (contentType === 'application/json-patch+json') patched = applyJsonPatch(visible, body) as Obj;
      else if (contentType === 'application/merge-patch+json') patched = applyMergePatch(visible, body) as Obj;
      else if (contentType === 'application/strategic-merge-patch+json' && !isIstio(route.kind)) patched = applyStrategicMergePatch(visible, body) as Obj;
      else throw unsupportedMediaType(contentType ?? 'none');
    } catch (error) {
      if (!(error instanceof PatchError)) throw error;
      if (error.testFailed && this.testFailureStatus === 409) throw conflict(this.store.ref(route.kind, current.metadata.name));
      throw new KubeError(422, 'Invalid', error.message);
    }
    if (patched.metadata?.name !== current.metadata.name) {
      throw new KubeError(422, 'Invalid', `${route.kind.kind} "${current.metadata.name}" is invalid: metadata.name: field is immutable`);
    }
    return patched;
  }

  private scale(method: string, route: Route, name: string, contentType: string | undefined, body: unknown, manager: string): [number, unknown] {
    const deployment = this.store.mustGet(route.kind, route.namespace, name);
    const spec = deployment.spec as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
    const view = (object: Obj) => ({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name, namespace: route.namespace, resourceVersion: object.metadata.resourceVersion, uid: object.metadata.uid },
      spec: { replicas: (object.spec as { replicas?: number }).replicas ?? 1 },
      status: {
        replicas: (object.status as { replicas?: number } | undefined)?.replicas ?? 0,
        selector: Object.entries(spec.selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`).join(','),
      },
    });
    if (method === 'GET') return [200, view(deployment)];
    let next: { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
    if (method === 'PUT') next = body as typeof next;
    else if (method === 'PATCH') {
      try {
        if (contentType === 'application/json-patch+json') next = applyJsonPatch(view(deployment), body) as typeof next;
        else if (contentType === 'application/merge-patch+json' || contentType === 'application/strategic-merge-patch+json') next = applyMergePatch(view(deployment), body) as typeof next;
        else throw unsupportedMediaType(contentType ?? 'none');
      } catch (error) {
        if (!(error instanceof PatchError)) throw error;
        if (error.testFailed && this.testFailureStatus === 409) throw conflict(this.store.ref(route.kind, name));
        throw new KubeError(422, 'Invalid', error.message);
      }
    } else throw new KubeError(405, 'MethodNotAllowed', `${method} is not supported on scale`);
    const replicas = next.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new KubeError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0`);
    }
    const updated = this.store.write(route.kind, route.namespace, { ...deployment, spec: { ...(deployment.spec as object), replicas } }, { expectVersion: next.metadata?.resourceVersion, manager, subresource: 'scale' });
    return [200, view(updated)];
  }
}
