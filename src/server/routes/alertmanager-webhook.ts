import type { FastifyInstance } from 'fastify';
import type { AlertRequest, ReleaseEngine } from '../../engine/api.js';
import type { Metrics } from '../../metrics.js';
import type { RouteModule } from '../app.js';
import { labelFingerprint } from '../../gates/alert-fingerprint.js';
import { alertmanagerWebhookPayload } from './alertmanager-webhook-schema.js';
import { secretsEqual } from '../../secrets/secrets-equal.js';
import { bearerToken } from './bearer-token.js';
import { dispatchAlerts } from './dispatch-alerts.js';

export interface AlertmanagerWebhookOptions {
  engine: Pick<ReleaseEngine, 'alertBatch'>;
  /** ALERT_WEBHOOK_SECRET: Alertmanager sends it as `Authorization: Bearer <secret>` (http_config.authorization). */
  secret: string;
  metrics?: Metrics;
}

/** `POST /webhooks/alertmanager`: firing alerts abort the live releases whose alert matchers match them. */
export function alertmanagerWebhookRoutes(options: AlertmanagerWebhookOptions): RouteModule {
  if (!options.secret) throw new Error('ALERT_WEBHOOK_SECRET is empty: set it to the bearer token Alertmanager sends');
  return (app: FastifyInstance) => {
    app.post(
      '/webhooks/alertmanager',
      {
        // onRequest runs before the body is read, so an unauthenticated sender never gets it parsed.
        onRequest: async (request, reply) => {
          const token = bearerToken(request.headers.authorization);
          if (token === null || !secretsEqual(token, options.secret)) {
            options.metrics?.webhookDeliveries.inc({ source: 'alertmanager', event: 'alert', outcome: 'refused' });
            return reply.code(401).send({ error: 'missing or wrong bearer token' });
          }
        },
      },
      async (request, reply) => {
        const parsed = alertmanagerWebhookPayload.safeParse(request.body);
        if (!parsed.success) {
          options.metrics?.webhookDeliveries.inc({ source: 'alertmanager', event: 'alert', outcome: 'invalid' });
          return reply.code(400).send({ error: 'not an Alertmanager webhook payload', issues: parsed.error.issues.slice(0, 5).map(describeIssue) });
        }
        const firing: AlertRequest[] = parsed.data.alerts
          .filter((alert) => alert.status === 'firing')
          .map((alert) => ({
            name: alert.labels.alertname ?? 'unnamed',
            labels: alert.labels,
            startsAt: alert.startsAt,
            fingerprint: alert.fingerprint ?? labelFingerprint(alert.labels),
            source: 'alertmanager',
          }));
        return dispatchAlerts(options.engine, firing, reply, 'alertmanager', options.metrics);
      },
    );
  };
}

function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  return `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
}
