/** What one instant query gave: a number (NaN and ±Inf included), nothing, or an outage/refusal. */
export type QueryOutcome =
  | { kind: 'value'; value: number; series: number }
  | { kind: 'empty' }
  | { kind: 'error'; message: string };

/** What one range query gave: one value per step of a single series, nothing, or an outage/refusal. */
export type RangeOutcome =
  | { kind: 'samples'; values: number[] }
  | { kind: 'empty' }
  | { kind: 'error'; message: string };

export interface QueryRange {
  startMs: number;
  endMs: number;
  stepMs: number;
}

/** Anything that answers PromQL queries (the Prometheus adapter, or a fake in unit tests). */
export interface MetricProvider {
  query(promql: string): Promise<QueryOutcome>;
  /** Range query (`query_range`) for the judge's samples; without it the judge reports an error. */
  queryRange?(promql: string, range: QueryRange): Promise<RangeOutcome>;
}
