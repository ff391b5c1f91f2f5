// A simulated Istio traffic source for `canarybot demo`: answers the built-in PromQL queries
// (success rate, p99 latency, request count per destination workload) from a small model instead
// of Prometheus. The canary's share of requests follows the live route weights (read from the
// Kubernetes simulator), and each workload's error rate and latency are set by the demo, so a
// healthy canary passes its analysis and a failing one is rolled back on a real figure.

import { BUILTIN_METRICS } from '../gates/builtin-metrics.js';
import type { MetricProvider, QueryOutcome, QueryRange, RangeOutcome } from '../gates/query-outcome.js';
import { renderQuery } from '../gates/render-query.js';
import { parseDuration } from '../core/duration.js';

export interface WorkloadHealth {
  /** Share of non-5xx responses, 0..1. */
  successRate: number;
  /** 99th percentile of request duration in milliseconds. */
  p99Ms: number;
}

export const HEALTHY: WorkloadHealth = { successRate: 0.998, p99Ms: 120 };
/** A broken build: about 30 % of its responses are 5xx, and it is slower. */
export const FAILING: WorkloadHealth = { successRate: 0.7, p99Ms: 380 };
/** A build that only got slower: p99 20 % above its baseline's, under every fixed threshold. */
export const SLOWER: WorkloadHealth = { successRate: 0.998, p99Ms: 144 };

/** Percent of requests to each side, as the VirtualService route says. */
export interface TrafficShare {
  stable: number;
  canary: number;
  /** With target.baseline: the baseline Deployment's share (it runs the stable build). */
  baseline?: number;
}

export interface SimulatedTrafficOptions {
  namespace: string;
  /** Destination workload names (the Deployments). */
  stable: string;
  canary: string;
  /** The baseline Deployment, when the definition has one. */
  baseline?: string;
  /** The current weights; read on every query. */
  share: () => TrafficShare | Promise<TrafficShare>;
  /**
   * Requests per second reaching each side, when the demo computes them itself (a release train's
   * chain: lane-traffic.ts); overrides \`requestsPerSecond\` × \`share\`.
   */
  rates?: () => TrafficShare | Promise<TrafficShare>;
  /** Requests per second reaching the service in total (default 40). */
  requestsPerSecond?: number;
  stableHealth?: WorkloadHealth;
  canaryHealth?: WorkloadHealth;
}

type Figure = 'request-success-rate' | 'request-duration-p99' | 'request-count';
const FIGURES: readonly Figure[] = ['request-success-rate', 'request-duration-p99', 'request-count'];
const WORKLOAD = /destination_workload="([^"]*)"/;
const WINDOW = /\[((?:[0-9]+(?:ms|d|h|m|s))+)\]/;

export class SimulatedTraffic implements MetricProvider {
  private readonly health: Record<'stable' | 'canary', WorkloadHealth>;
  private readonly rps: number;
  private queries = 0;

  constructor(private readonly options: SimulatedTrafficOptions) {
    this.health = { stable: options.stableHealth ?? HEALTHY, canary: options.canaryHealth ?? HEALTHY };
    this.rps = options.requestsPerSecond ?? 40;
  }

  /** Switch the canary between a healthy and a failing build (the next query sees it). */
  setCanaryHealth(health: WorkloadHealth): void {
    this.health.canary = health;
  }

  async query(promql: string): Promise<QueryOutcome> {
    this.queries += 1;
    const workload = WORKLOAD.exec(promql)?.[1];
    const window = WINDOW.exec(promql)?.[1];
    const windowMs = window === undefined ? null : parseDuration(window);
    const figure = workload === undefined || window === undefined ? undefined : this.recognise(promql, workload, window);
    if (figure === undefined || windowMs === null || workload === undefined) {
      return { kind: 'error', message: `the simulated traffic source answers only the built-in metrics, not: ${promql.slice(0, 200)}` };
    }
    const role = this.role(workload);
    // A workload the mesh has never seen has no series at all.
    if (role === null) return { kind: 'empty' };
    const requests = this.options.rates
      ? (((await this.options.rates())[role] ?? 0) * windowMs) / 1000
      : (this.rps * (((await this.options.share())[role] ?? 0) / 100) * windowMs) / 1000;
    if (figure === 'request-count') return { kind: 'value', value: Math.round(requests), series: 1 };
    // No requests in the window: Prometheus has no rate to divide, so no sample.
    if (requests < 1) return { kind: 'empty' };
    return { kind: 'value', value: this.figure(figure, role, this.queries), series: 1 };
  }

  /**
   * The judge's samples: one figure per step, as if each step's window had been measured, while
   * the workload has traffic now (the simulation keeps no history).
   */
  async queryRange(promql: string, range: QueryRange): Promise<RangeOutcome> {
    const answer = await this.query(promql);
    if (answer.kind !== 'value') return answer;
    const workload = WORKLOAD.exec(promql)?.[1] ?? '';
    const figure = this.recognise(promql, workload, WINDOW.exec(promql)?.[1] ?? '');
    const role = this.role(workload) ?? 'stable';
    const steps = Math.max(1, Math.floor((range.endMs - range.startMs) / range.stepMs) + 1);
    if (figure === undefined || figure === 'request-count') return { kind: 'samples', values: Array.from({ length: steps }, () => answer.value) };
    return { kind: 'samples', values: Array.from({ length: steps }, (_, i) => this.figure(figure, role, this.queries * 101 + i)) };
  }

  private role(workload: string | undefined): 'stable' | 'canary' | 'baseline' | null {
    if (workload === this.options.stable) return 'stable';
    if (workload === this.options.canary) return 'canary';
    if (workload !== undefined && workload === this.options.baseline) return 'baseline';
    return null;
  }

  private figure(figure: Figure, role: 'stable' | 'canary' | 'baseline', seed: number): number {
    // The baseline runs the stable build.
    const health = this.health[role === 'baseline' ? 'stable' : role];
    if (figure === 'request-success-rate') return round(clamp(health.successRate + this.jitter(0.001, seed), 0, 1) * 100, 2);
    return round(health.p99Ms * (1 + this.jitter(0.05, seed)), 1);
  }

  /** Which built-in query this is: rendered again for its workload and window, it must be identical. */
  private recognise(promql: string, workload: string, window: string): Figure | undefined {
    const variables = { namespace: this.options.namespace, 'canary.deployment': workload, window };
    return FIGURES.find((name) => {
      const template = BUILTIN_METRICS[name]?.query;
      return template !== undefined && renderQuery(template, variables) === promql;
    });
  }

  /** A small deterministic wobble in [-size, size], so figures look measured, not constant. */
  private jitter(size: number, seed: number): number {
    return Math.sin(seed * 12.9898) * size;
  }
}

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));
const round = (value: number, digits: number): number => Number(value.toFixed(digits));
