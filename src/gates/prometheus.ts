import { parseSampleValue } from './parse-sample-value.js';
import { prometheusQueryResponse } from './prometheus-schema.js';
import type { MetricProvider, QueryOutcome } from './query-outcome.js';

export interface PrometheusOptions {
  /** Base URL of the Prometheus server (PROMETHEUS_URL), e.g. http://prometheus.istio-system:9090. */
  url: string;
  /** Per-query timeout; default 5 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const MAX_ERROR_TEXT = 300;

/**
 * Instant queries over Prometheus' HTTP API. Never throws: an outage, a refusal (4xx/5xx) or a
 * timeout is an `error` outcome, which the verdicts turn into an `error` measurement.
 */
export function createPrometheusProvider(options: PrometheusOptions): MetricProvider {
  const endpoint = new URL('api/v1/query', options.url.endsWith('/') ? options.url : `${options.url}/`);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const doFetch = options.fetch ?? fetch;

  return {
    async query(promql: string): Promise<QueryOutcome> {
      let response: Response;
      let text: string;
      try {
        response = await doFetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ query: promql }).toString(),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        return { kind: 'error', message: `Prometheus unreachable: ${describeFetchError(error, timeoutMs)}` };
      }
      return interpret(response.status, text);
    },
  };
}

function interpret(status: number, text: string): QueryOutcome {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'error', message: `Prometheus answered HTTP ${status} with a non-JSON body: ${clip(text)}` };
  }
  const parsed = prometheusQueryResponse.safeParse(json);
  if (!parsed.success) return { kind: 'error', message: `Prometheus answered HTTP ${status} with an unexpected body: ${clip(text)}` };
  const body = parsed.data;
  if (body.status === 'error' || status >= 400) {
    const detail = body.status === 'error' ? `${body.errorType ?? 'error'}: ${body.error ?? ''}` : clip(text);
    return { kind: 'error', message: `Prometheus refused the query (HTTP ${status}) ${clip(detail)}` };
  }
  const data = body.data;
  if (data.resultType === 'scalar') return toValue(data.result[1], 1);
  if (data.resultType !== 'vector') return { kind: 'error', message: `query returned a ${data.resultType}; an instant vector or scalar is needed` };
  const first = data.result[0];
  if (!first) return { kind: 'empty' };
  return toValue(first.value[1], data.result.length);
}

function toValue(text: string, series: number): QueryOutcome {
  const value = parseSampleValue(text);
  if (value === null) return { kind: 'error', message: `Prometheus sent a sample value that is not a number: ${clip(text)}` };
  return { kind: 'value', value, series };
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  return cause ?? (error instanceof Error ? error.message : String(error));
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ERROR_TEXT ? `${flat.slice(0, MAX_ERROR_TEXT)}…` : flat;
}
