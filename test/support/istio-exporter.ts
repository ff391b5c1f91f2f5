import { createServer, type Server } from 'node:http';

/** Traffic of one workload as the exporter generates it. */
export interface WorkloadTraffic {
  namespace: string;
  /** Requests per second (0: series exist but stand still). */
  rps: number;
  /** Share of requests answered 503, 0..1. */
  errorRatio?: number;
  /** Every request takes this long (ms); it lands in the matching histogram bucket. */
  latencyMs?: number;
  /**
   * Spread each request's latency uniformly over latencyMs × (1 ± spread), e.g. 0.2 for ±20 %: a
   * latency distribution rather than one value, so a p99 moves with it.
   */
  latencySpread?: number;
}

export interface IstioExporter {
  url: string;
  /** host:port, for a scrape config. */
  target: string;
  /** Set (or change) a workload's traffic from now on (a workload is its name in its namespace); counters keep their totals, as Envoy's do. */
  setTraffic(workload: string, traffic: WorkloadTraffic): void;
  close(): Promise<void>;
}

// Istio's defaults with a finer ladder between 50 and 250 ms (bucket boundaries are configurable per
// workload in Istio), so that a 20 % change of latency there shows in a histogram_quantile.
const BUCKETS = [1, 5, 10, 25, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200, 250, 500, 1000, 2500, 5000, 10000];
const TICK_MS = 100;

interface Series {
  traffic: WorkloadTraffic;
  ok: number;
  errors: number;
  buckets: number[];
  sum: number;
  /** Fractional requests carried over between ticks. */
  carry: number;
  errorCarry: number;
}

/**
 * A tiny /metrics endpoint with Istio's standard metric names and labels (reporter="destination"),
 * whose counters grow at the rates a test sets — what the sidecars of a real mesh would export.
 */
export async function startIstioExporter(): Promise<IstioExporter> {
  const series = new Map<string, Series>();
  const timer = setInterval(() => {
    for (const s of series.values()) {
      s.carry += (s.traffic.rps * TICK_MS) / 1000;
      const n = Math.floor(s.carry);
      if (n === 0) continue;
      s.carry -= n;
      s.errorCarry += n * (s.traffic.errorRatio ?? 0);
      const errors = Math.min(n, Math.floor(s.errorCarry + 1e-9));
      s.errorCarry -= errors;
      s.errors += errors;
      s.ok += n - errors;
      const latency = s.traffic.latencyMs ?? 20;
      const spread = s.traffic.latencySpread ?? 0;
      for (let request = 0; request < n; request++) {
        const took = spread > 0 ? latency * (1 + spread * (2 * Math.random() - 1)) : latency;
        BUCKETS.forEach((le, i) => {
          if (took <= le) s.buckets[i]! += 1;
        });
        s.sum += took;
      }
    }
  }, TICK_MS);

  const render = (): string => {
    const lines = ['# TYPE istio_requests_total counter'];
    const hist = ['# TYPE istio_request_duration_milliseconds histogram'];
    for (const [key, s] of series) {
      const workload = key.slice(key.indexOf('/') + 1);
      const base = `reporter="destination",destination_workload="${workload}",destination_workload_namespace="${s.traffic.namespace}",destination_service_name="${workload}"`;
      lines.push(`istio_requests_total{${base},response_code="200"} ${s.ok}`);
      lines.push(`istio_requests_total{${base},response_code="503"} ${s.errors}`);
      BUCKETS.forEach((le, i) => hist.push(`istio_request_duration_milliseconds_bucket{${base},le="${le}"} ${s.buckets[i]}`));
      const total = s.ok + s.errors;
      hist.push(`istio_request_duration_milliseconds_bucket{${base},le="+Inf"} ${total}`);
      hist.push(`istio_request_duration_milliseconds_sum{${base}} ${s.sum}`);
      hist.push(`istio_request_duration_milliseconds_count{${base}} ${total}`);
    }
    return `${[...lines, ...hist].join('\n')}\n`;
  };

  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(render());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    setTraffic(workload, traffic) {
      const key = `${traffic.namespace}/${workload}`;
      const existing = series.get(key);
      if (existing) existing.traffic = traffic;
      else series.set(key, { traffic, ok: 0, errors: 0, buckets: BUCKETS.map(() => 0), sum: 0, carry: 0, errorCarry: 0 });
    },
    close: async () => {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
