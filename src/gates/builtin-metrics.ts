// Built-in metrics on Istio's standard telemetry, as templates over the destination workload, so the
// stable side of a relative threshold is the same template rendered for the stable workload.

export interface BuiltinMetric {
  query: string;
  unit: string;
  /** Which way is good: `higher` (success rate) or `lower` (latency). */
  better: 'higher' | 'lower';
}

const selector = (extra = ''): string =>
  `reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ canary.deployment }}"${extra}`;

export const BUILTIN_METRICS: Readonly<Record<string, BuiltinMetric>> = {
  'request-success-rate': {
    query:
      `sum(rate(istio_requests_total{${selector(',response_code!~"5.."')}}[{{ window }}]))` +
      ` / sum(rate(istio_requests_total{${selector()}}[{{ window }}])) * 100`,
    unit: '%',
    better: 'higher',
  },
  'request-duration-p99': {
    query: `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${selector()}}[{{ window }}])))`,
    unit: 'ms',
    better: 'lower',
  },
  'request-count': {
    query: `sum(increase(istio_requests_total{${selector()}}[{{ window }}]))`,
    unit: 'requests',
    better: 'higher',
  },
};

export const REQUEST_COUNT = 'request-count';
