import type { AlertSourceSpec } from '../core/definition.js';
import type { Measurement } from '../core/gate.js';
import { formatLabelMatcher, matchesAll } from '../core/label-matchers.js';
import { alertmanagerAlerts } from './alertmanager-schema.js';
import { connectionHeaders } from './connection.js';

export interface AlertmanagerOptions {
  /** Base URL of Alertmanager (ALERTMANAGER_URL), e.g. http://alertmanager.monitoring:9093. */
  url: string;
  /** Default 5 s. */
  timeoutMs?: number;
  /** Extra headers on every request, e.g. X-Scope-OrgID (ALERTMANAGER_HEADERS). */
  headers?: Readonly<Record<string, string>>;
  /** ALERTMANAGER_BEARER_TOKEN. */
  bearerToken?: string;
  /** ALERTMANAGER_BASIC_AUTH, `user:password`. */
  basicAuth?: string;
  fetch?: typeof fetch;
}

/** An alert source the gate evaluator asks once per check. */
export interface AlertGate {
  /** `fail` per firing alert matching the source (named `alert:<alertname>`), one `pass`, or one `error`. Never throws. */
  check(source: AlertSourceSpec): Promise<Measurement[]>;
}

const GATE_NAME = 'alert:alertmanager';

export function createAlertmanagerGate(options: AlertmanagerOptions): AlertGate {
  const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const doFetch = options.fetch ?? fetch;
  const headers = { ...connectionHeaders({ headers: options.headers ?? {}, bearerToken: options.bearerToken, basicAuth: options.basicAuth }), accept: 'application/json' };

  return {
    async check(source: AlertSourceSpec): Promise<Measurement[]> {
      const filters = source.matchers.map(formatLabelMatcher);
      const threshold = `no active alert matching {${filters.join(', ')}}`;
      const query = filters.join(', ');
      const error = (message: string): Measurement[] => [{ name: GATE_NAME, verdict: 'error', value: null, threshold, query, message }];
      // An empty matcher list would match every alert in the organisation; refuse rather than guess.
      if (filters.length === 0) return error('the alert source has no matchers');

      const url = new URL('api/v2/alerts', base);
      url.searchParams.set('active', 'true');
      url.searchParams.set('silenced', 'false');
      url.searchParams.set('inhibited', 'false');
      for (const filter of filters) url.searchParams.append('filter', filter);

      let status: number;
      let text: string;
      try {
        const response = await doFetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
        status = response.status;
        text = await response.text();
      } catch (cause) {
        const timedOut = cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
        return error(`Alertmanager unreachable: ${timedOut ? `no answer within ${timeoutMs} ms` : describe(cause)}`);
      }
      if (status < 200 || status >= 300) return error(`Alertmanager answered HTTP ${status}: ${text.slice(0, 200)}`);
      let parsed;
      try {
        parsed = alertmanagerAlerts.safeParse(JSON.parse(text));
      } catch {
        return error('Alertmanager sent a body that is not JSON');
      }
      if (!parsed.success) return error('Alertmanager sent an unexpected body');

      // Filtered server-side already; matching again keeps the verdict right if a filter is ignored.
      const firing = parsed.data.filter((alert) => (alert.status?.state ?? 'active') === 'active' && matchesAll(source.matchers, alert.labels));
      if (firing.length === 0) return [{ name: GATE_NAME, verdict: 'pass', value: 0, threshold, query }];
      return firing.map((alert) => ({
        name: `alert:${alert.labels.alertname ?? 'unnamed'}`,
        verdict: 'fail',
        value: 1,
        threshold,
        query,
        message: `alert firing${alert.startsAt ? ` since ${alert.startsAt}` : ''}: ${labelText(alert.labels)}`,
      }));
    },
  };
}

function labelText(labels: Record<string, string>): string {
  const text = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function describe(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
