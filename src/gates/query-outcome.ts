/** What one instant query gave: a number (NaN and ±Inf included), nothing, or an outage/refusal. */
export type QueryOutcome =
  | { kind: 'value'; value: number; series: number }
  | { kind: 'empty' }
  | { kind: 'error'; message: string };

/** Anything that answers instant PromQL queries (the Prometheus adapter, or a fake in unit tests). */
export interface MetricProvider {
  query(promql: string): Promise<QueryOutcome>;
}
