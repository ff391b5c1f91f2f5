import type { FastifyInstance } from 'fastify';
import type { ReleaseEngine } from '../../engine/api.js';
import { BUILTIN_ALERT_PRESETS, type AlertPreset } from '../../gates/alert-presets.js';
import { mapAlertPayload } from '../../gates/map-alert-payload.js';
import type { Metrics } from '../../metrics.js';
import type { RouteModule } from '../app.js';
import { secretsEqual } from '../../secrets/secrets-equal.js';
import { bearerToken } from './bearer-token.js';
import { dispatchAlerts } from './dispatch-alerts.js';

export interface AlertWebhookOptions {
  engine: Pick<ReleaseEngine, 'alertBatch'>;
  /** ALERT_WEBHOOK_SECRET, as `Authorization: Bearer <secret>` or `?token=<secret>` (for tools that cannot set headers). */
  secret: string;
  /** Preset name → field mapping; default the built-in ones (`bkmonitor`). See loadAlertPresets. */
  presets?: Readonly<Record<string, AlertPreset>>;
  metrics?: Metrics;
}

/** `POST /webhooks/alerts/:preset`: a generic JSON alert webhook, mapped by the named preset. */
export function alertWebhookRoutes(options: AlertWebhookOptions): RouteModule {
  if (!options.secret) throw new Error('ALERT_WEBHOOK_SECRET is empty: set it to the token alert webhooks send');
  const presets = options.presets ?? BUILTIN_ALERT_PRESETS;
  return (app: FastifyInstance) => {
    app.post<{ Params: { preset: string }; Querystring: { token?: string } }>(
      '/webhooks/alerts/:preset',
      {
        onRequest: async (request, reply) => {
          const token = bearerToken(request.headers.authorization) ?? (typeof request.query.token === 'string' ? request.query.token : null);
          if (token === null || !secretsEqual(token, options.secret)) {
            // Never a label from an unauthenticated request: the preset name is the sender's to invent.
            options.metrics?.webhookDeliveries.inc({ source: 'alerts', event: 'alert', outcome: 'refused' });
            return reply.code(401).send({ error: 'missing or wrong token' });
          }
        },
      },
      async (request, reply) => {
        const name = request.params.preset;
        const preset = Object.hasOwn(presets, name) ? presets[name] : undefined;
        if (!preset) return reply.code(404).send({ error: `unknown alert preset "${name}"`, presets: Object.keys(presets) });
        const source = `alerts-${name}`;
        if (request.body === undefined || request.body === null || typeof request.body !== 'object') {
          options.metrics?.webhookDeliveries.inc({ source, event: 'alert', outcome: 'invalid' });
          return reply.code(400).send({ error: 'expected a JSON object or array body' });
        }
        const mapped = mapAlertPayload(request.body, preset, source);
        if (!mapped.ok) {
          options.metrics?.webhookDeliveries.inc({ source, event: 'alert', outcome: 'invalid' });
          return reply.code(400).send({ error: `not a ${name} alert payload: ${mapped.message}` });
        }
        return dispatchAlerts(options.engine, mapped.firing, reply, source, options.metrics);
      },
    );
  };
}
