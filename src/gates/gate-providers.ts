// The Prometheus and Alertmanager each definition's gates talk to: the bot-wide ones from the
// environment, or a definition's own (`analysis.provider`) where tenants differ. Resolved once at
// start-up, so a missing credential stops `serve` with one line, and every credential is known to
// the logger's mask.

import type { Config } from '../config.js';
import type { Definition } from '../core/definition.js';
import { createAlertmanagerGate, type AlertGate } from './alertmanager.js';
import { connectionFetch, connectionSecrets, overriddenConnection, readCaFile, type Connection } from './connection.js';
import { createPrometheusProvider } from './prometheus.js';
import type { MetricProvider } from './query-outcome.js';

export interface GateProviders {
  /** The definition's Prometheus; undefined when none is configured. */
  metricsFor(definition: Definition): MetricProvider | undefined;
  /** The definition's Alertmanager; undefined when none is configured. */
  alertsFor(definition: Definition): AlertGate | undefined;
  /** The bot-wide Prometheus (PROMETHEUS_URL), for `/readyz?verbose`; undefined when none is configured. */
  botMetrics: MetricProvider | undefined;
  /** Every credential in use, for the logger to mask. */
  secrets: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Definitions whose analysis polls Alertmanager (`spec.alerts` and an analysis step) with no
 * Alertmanager to poll: neither ALERTMANAGER_URL nor their own `analysis.provider.alertmanager.url`.
 * Such an analysis would pass on the request count alone.
 */
export function definitionsMissingAlertmanager(alertmanagerUrl: string | undefined, definitions: readonly Definition[]): Definition[] {
  if (alertmanagerUrl) return [];
  return definitions.filter(
    (definition) =>
      definition.alerts.length > 0 &&
      definition.strategy.steps.some((step) => step.kind === 'analysis') &&
      !definition.analysis.provider?.alertmanager?.url,
  );
}

/** The one line `serve` stops with (and `validate` warns with), naming the variable and the definitions. */
export function missingAlertmanagerProblem(definitions: readonly Definition[]): string {
  const names = definitions.map((definition) => definition.name).join(', ');
  const which = definitions.length === 1 ? `pipeline ${names} polls` : `pipelines ${names} poll`;
  return `is not set, but ${which} Alertmanager in analysis (spec.alerts); set ALERTMANAGER_URL or spec.analysis.provider.alertmanager.url`;
}

export function botConnections(config: Config): { prometheus?: Connection; alertmanager?: Connection } {
  const connection = (url: string | undefined, headers: Record<string, string> | undefined, bearerToken: string | undefined, basicAuth: string | undefined, caVariable: string, caFile: string | undefined): Connection | undefined => {
    if (!url) return undefined;
    const out: Connection = { url, headers: headers ?? {} };
    if (bearerToken) out.bearerToken = bearerToken;
    if (basicAuth) out.basicAuth = basicAuth;
    const ca = readCaFile(caVariable, caFile);
    if (ca) out.ca = ca;
    return out;
  };
  return {
    prometheus: connection(config.prometheusUrl, config.prometheusHeaders, config.prometheusBearerToken, config.prometheusBasicAuth, 'PROMETHEUS_CA_FILE', config.prometheusCaFile),
    alertmanager: connection(config.alertmanagerUrl, config.alertmanagerHeaders, config.alertmanagerBearerToken, config.alertmanagerBasicAuth, 'ALERTMANAGER_CA_FILE', config.alertmanagerCaFile),
  };
}

/** Throws ConfigError (one line naming the variable) when a definition's credential is missing. */
export function createGateProviders(config: Config, definitions: readonly Definition[], env: Env = process.env): GateProviders {
  const base = botConnections(config);
  const timeoutMs = config.prometheusTimeoutMs;
  const prometheus = (connection: Connection | undefined): MetricProvider | undefined => {
    if (!connection) return undefined;
    const doFetch = connectionFetch(connection);
    return createPrometheusProvider({ url: connection.url, timeoutMs, headers: connection.headers, bearerToken: connection.bearerToken, basicAuth: connection.basicAuth, ...(doFetch ? { fetch: doFetch } : {}) });
  };
  const alertmanager = (connection: Connection | undefined): AlertGate | undefined => {
    if (!connection) return undefined;
    const doFetch = connectionFetch(connection);
    return createAlertmanagerGate({ url: connection.url, headers: connection.headers, bearerToken: connection.bearerToken, basicAuth: connection.basicAuth, ...(doFetch ? { fetch: doFetch } : {}) });
  };

  const botMetrics = prometheus(base.prometheus);
  const botAlerts = alertmanager(base.alertmanager);
  const secrets = [...connectionSecrets(base.prometheus), ...connectionSecrets(base.alertmanager)];
  const metrics = new Map<string, MetricProvider | undefined>();
  const alerts = new Map<string, AlertGate | undefined>();
  for (const definition of definitions) {
    const overrides = definition.analysis.provider;
    if (!overrides) continue;
    const owner = `pipeline ${definition.name} (spec.analysis.provider)`;
    if (overrides.prometheus) {
      const connection = overriddenConnection(base.prometheus, overrides.prometheus, env, owner);
      metrics.set(definition.name, prometheus(connection));
      secrets.push(...connectionSecrets(connection));
    }
    if (overrides.alertmanager) {
      const connection = overriddenConnection(base.alertmanager, overrides.alertmanager, env, owner);
      alerts.set(definition.name, alertmanager(connection));
      secrets.push(...connectionSecrets(connection));
    }
  }
  return {
    metricsFor: (definition) => (metrics.has(definition.name) ? metrics.get(definition.name) : botMetrics),
    alertsFor: (definition) => (alerts.has(definition.name) ? alerts.get(definition.name) : botAlerts),
    botMetrics,
    secrets: [...new Set(secrets)],
  };
}
