import { connectionHeaders } from './connection.js';
import { parseSampleValue } from './parse-sample-value.js';
import { prometheusQueryResponse, type PrometheusQueryResponse } from './prometheus-schema.js';
import type { MetricProvider, QueryOutcome, QueryRange, RangeOutcome } from './query-outcome.js';

export interface PrometheusOptions {
  /** Base URL of the Prometheus server (PROMETHEUS_URL), e.g. http://prometheus.istio-system:9090. */
  url: string;
  /** Per-query timeout; default 5 s. */
  timeoutMs?: number;
  /** Extra headers on every request, e.g. X-Scope-OrgID (PROMETHEUS_HEADERS). */
  headers?: Readonly<Record<string, string>>;
  /** Sent as `Authorization: Bearer` (PROMETHEUS_BEARER_TOKEN). */
  bearerToken?: string;
  /** `user:password`, sent as basic auth (PROMETHEUS_BASIC_AUTH). */
  basicAuth?: string;
  fetch?: typeof fetch;
}

/** Prometheus refuses range queries of more points than this per series. */
const MAX_POINTS = 11_000;

const MAX_ERROR_TEXT = 300;

/**
 * Instant queries over Prometheus' HTTP API. Never throws: an outage, a refusal (4xx/5xx) or a
 * timeout is an `error` outcome, which the verdicts turn into an `error` measurement.
 */
export function createPrometheusProvider(options: PrometheusOptions): MetricProvider {
  const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const doFetch = options.fetch ?? fetch;
  const headers = {
    ...connectionHeaders({ headers: options.headers ?? {}, bearerToken: options.bearerToken, basicAuth: options.basicAuth }),
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };

  /** POST a form to an API path; the parsed body, or an error outcome. Credentials never reach a message. */
  async function post(path: string, form: Record<string, string>): Promise<{ status: number; body: Extract<PrometheusQueryResponse, { status: 'success' }>['data'] } | { kind: 'error'; message: string }> {
    let response: Response;
    let text: string;
    try {
      response = await doFetch(new URL(path, base), { method: 'POST', headers, body: new URLSearchParams(form).toString(), signal: AbortSignal.timeout(timeoutMs) });
      text = await response.text();
    } catch (error) {
      return { kind: 'error', message: `Prometheus unreachable: ${describeFetchError(error, timeoutMs)}` };
    }
    return interpret(response.status, text);
  }

  return {
    async query(promql: string): Promise<QueryOutcome> {
      const answer = await post('api/v1/query', { query: promql });
      return 'kind' in answer ? answer : toInstant(answer.body);
    },

    async queryRange(promql: string, range: QueryRange): Promise<RangeOutcome> {
      // Wider steps rather than a refused query when a long analysis would exceed Prometheus' limit.
      const stepMs = Math.max(range.stepMs, Math.ceil((range.endMs - range.startMs) / (MAX_POINTS - 1)));
      const answer = await post('api/v1/query_range', {
        query: promql,
        start: (range.startMs / 1000).toFixed(3),
        end: (range.endMs / 1000).toFixed(3),
        step: (stepMs / 1000).toFixed(3),
      });
      return 'kind' in answer ? answer : toSamples(answer.body);
    },
  };
}

/** A 401/403 names the likely cause without echoing anything that was sent. */
function refusal(status: number): string {
  if (status === 401) return ' (unauthorized: check PROMETHEUS_BEARER_TOKEN / PROMETHEUS_BASIC_AUTH)';
  if (status === 403) return ' (forbidden: check the credentials and the tenant header)';
  return '';
}

function interpret(status: number, text: string): { status: number; body: Extract<PrometheusQueryResponse, { status: 'success' }>['data'] } | { kind: 'error'; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'error', message: `Prometheus answered HTTP ${status}${refusal(status)} with a non-JSON body: ${clip(text)}` };
  }
  const parsed = prometheusQueryResponse.safeParse(json);
  if (!parsed.success) return { kind: 'error', message: `Prometheus answered HTTP ${status}${refusal(status)} with an unexpected body: ${clip(text)}` };
  const body = parsed.data;
  if (body.status === 'error' || status >= 400) {
    const detail = body.status === 'error' ? `${body.errorType ?? 'error'}: ${body.error ?? ''}` : clip(text);
    return { kind: 'error', message: `Prometheus refused the query (HTTP ${status})${refusal(status)} ${clip(detail)}` };
  }
  return { status, body: body.data };
}

function toSamples(data: Extract<PrometheusQueryResponse, { status: 'success' }>['data']): RangeOutcome {
  if (data.resultType !== 'matrix') return { kind: 'error', message: `range query returned a ${data.resultType}; a range vector (matrix) is needed` };
  if (data.result.length === 0) return { kind: 'empty' };
  if (data.result.length > 1) {
    return { kind: 'error', message: `the query returns ${data.result.length} series; the judge compares one series per side: aggregate it (e.g. sum(...))` };
  }
  const values: number[] = [];
  for (const [, text] of data.result[0]!.values) {
    const value = parseSampleValue(text);
    if (value === null) return { kind: 'error', message: `Prometheus sent a sample value that is not a number: ${clip(text)}` };
    values.push(value);
  }
  return { kind: 'samples', values };
}

function toInstant(data: Extract<PrometheusQueryResponse, { status: 'success' }>['data']): QueryOutcome {
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
