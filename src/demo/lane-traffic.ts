// Simulated traffic through a call chain (productpage → reviews → ratings) routed by the
// VirtualServices as the Kubernetes simulator holds them, with Istio's routing semantics: the first
// http route whose match holds (any block, every condition in it), weights split the requests,
// `headers.request.set` on a route or destination adds headers. Each service passes the lane header
// and W3C baggage on to the next one — unless the demo says it drops them. The result is requests per
// second per workload (and how many came from the cohort), which the metric provider answers from.

import type { MetricProvider, QueryOutcome, QueryRange, RangeOutcome } from '../gates/query-outcome.js';
import { SimulatedTraffic, type WorkloadHealth } from './simulated-traffic.js';

export interface ChainService {
  service: string;
  stable: { deployment: string; subset: string };
  canary: { deployment: string; subset: string };
}

export interface LaneTrafficOptions {
  namespace: string;
  /** The call chain, entry first. */
  chain: ChainService[];
  /** The VirtualService of a service, as stored now. */
  virtualService: (service: string) => unknown;
  requestsPerSecond: number;
  /** The cohort: this share of users (0..1) sends these headers to the entry. */
  cohort: { share: number; headers: Record<string, string> };
  /** Headers a service passes on to the next one (lowercase); the lane header and `baggage` by default. */
  propagated: string[];
  /** Services that do not pass the propagated headers on (e.g. an uninstrumented build). */
  drops?: ReadonlySet<string>;
  health?: Partial<Record<string, WorkloadHealth>>;
}

/** Requests per second per workload, all and from the cohort. */
export type WorkloadFlows = Record<string, { all: number; cohort: number }>;

interface Flow {
  rate: number;
  cohort: boolean;
  headers: Record<string, string>;
}

interface Destination {
  destination?: { host?: string; subset?: string };
  weight?: number;
  headers?: { request?: { set?: Record<string, string>; add?: Record<string, string> } };
}

interface Route {
  match?: Array<Record<string, unknown>>;
  route?: Destination[];
  headers?: Destination['headers'];
}

function stringMatches(condition: unknown, value: string | undefined): boolean {
  if (value === undefined || typeof condition !== 'object' || condition === null) return false;
  const match = condition as { exact?: string; prefix?: string; regex?: string };
  if (match.exact !== undefined) return value === match.exact;
  if (match.prefix !== undefined) return value.startsWith(match.prefix);
  // Envoy's safe_regex is RE2 and matches the whole value.
  if (match.regex !== undefined) return new RegExp(`^(?:${match.regex})$`).test(value);
  return false;
}

function blockHolds(block: Record<string, unknown>, headers: Record<string, string>): boolean {
  for (const [field, conditions] of Object.entries(block)) {
    if (field === 'headers') {
      for (const [name, condition] of Object.entries(conditions as Record<string, unknown>)) if (!stringMatches(condition, headers[name])) return false;
    } else if (field === 'uri') {
      if (!stringMatches(conditions, '/')) return false;
    } else if (field !== 'name') {
      return false;
    }
  }
  return true;
}

/** The first http route a request with these headers takes (Istio evaluates them in order). */
export function routeFor(virtualService: unknown, headers: Record<string, string>): Route | undefined {
  const routes = (virtualService as { spec?: { http?: Route[] } } | undefined)?.spec?.http ?? [];
  return routes.find((route) => !route.match || route.match.length === 0 || route.match.some((block) => blockHolds(block, headers)));
}

/** Every workload's share of the chain's requests, by following each flow through the routes. */
export function chainFlows(options: LaneTrafficOptions): WorkloadFlows {
  const flows: WorkloadFlows = {};
  const add = (workload: string, flow: Flow): void => {
    const entry = (flows[workload] ??= { all: 0, cohort: 0 });
    entry.all += flow.rate;
    if (flow.cohort) entry.cohort += flow.rate;
  };
  const { share, headers } = options.cohort;
  let arriving: Flow[] = [
    { rate: options.requestsPerSecond * share, cohort: true, headers: { ...headers } },
    { rate: options.requestsPerSecond * (1 - share), cohort: false, headers: {} },
  ].filter((flow) => flow.rate > 0);
  for (const hop of options.chain) {
    const leaving: Flow[] = [];
    for (const flow of arriving) {
      const route = routeFor(options.virtualService(hop.service), flow.headers);
      const destinations = route?.route ?? [];
      const total = destinations.reduce((sum, d) => sum + (d.weight ?? (destinations.length === 1 ? 100 : 0)), 0) || 100;
      for (const destination of destinations) {
        const weight = destination.weight ?? (destinations.length === 1 ? 100 : 0);
        if (weight <= 0) continue;
        const seen = { ...flow.headers, ...route?.headers?.request?.set, ...destination.headers?.request?.set };
        const part: Flow = { rate: (flow.rate * weight) / total, cohort: flow.cohort, headers: seen };
        const subset = destination.destination?.subset;
        add(subset === hop.canary.subset ? hop.canary.deployment : hop.stable.deployment, part);
        // What this service sends to the next one: only the headers it propagates.
        const passed = options.drops?.has(hop.service) ? {} : Object.fromEntries(options.propagated.filter((name) => seen[name] !== undefined).map((name) => [name, seen[name] as string]));
        leaving.push({ ...part, headers: passed });
      }
    }
    arriving = leaving;
  }
  return flows;
}

/** The metric provider of the chain: each service's built-in metrics from its workloads' flows. */
export class LaneTraffic implements MetricProvider {
  private readonly services: SimulatedTraffic[];
  drops: Set<string>;

  constructor(private readonly options: LaneTrafficOptions) {
    this.drops = new Set(options.drops ?? []);
    this.services = options.chain.map(
      (hop) =>
        new SimulatedTraffic({
          namespace: options.namespace,
          stable: hop.stable.deployment,
          canary: hop.canary.deployment,
          share: () => ({ stable: 100, canary: 0 }),
          rates: () => {
            const flows = this.flows();
            return { stable: flows[hop.stable.deployment]?.all ?? 0, canary: flows[hop.canary.deployment]?.all ?? 0 };
          },
          ...(options.health?.[hop.canary.deployment] ? { canaryHealth: options.health[hop.canary.deployment] } : {}),
        }),
    );
  }

  flows(): WorkloadFlows {
    return chainFlows({ ...this.options, drops: this.drops });
  }

  private serviceOf(promql: string): SimulatedTraffic | undefined {
    const workload = /destination_workload="([^"]*)"/.exec(promql)?.[1];
    const index = this.options.chain.findIndex((hop) => hop.stable.deployment === workload || hop.canary.deployment === workload);
    return this.services[index];
  }

  query(promql: string): Promise<QueryOutcome> {
    return this.serviceOf(promql)?.query(promql) ?? Promise.resolve({ kind: 'empty' });
  }

  queryRange(promql: string, range: QueryRange): Promise<RangeOutcome> {
    return this.serviceOf(promql)?.queryRange(promql, range) ?? Promise.resolve({ kind: 'empty' });
  }
}
