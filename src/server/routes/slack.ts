import type { FastifyInstance } from 'fastify';
import { verifySlackSignature } from '../../chatops/verify-slack-signature.js';
import type { RouteModule } from '../app.js';
import { acceptSlashCommand, type ChatRouteOptions } from './chat-slash-command.js';

export interface SlackRouteOptions extends ChatRouteOptions {
  /** SLACK_SIGNING_SECRET */
  signingSecret: string;
}

/** `POST /chatops/slack`: Slack slash commands, verified with the v0 request signature. */
export function slackRoute(options: SlackRouteOptions): RouteModule {
  const now = options.now ?? Date.now;
  return (app: FastifyInstance) => {
    app.post('/chatops/slack', async (request, reply) => {
      const verdict = verifySlackSignature({
        signingSecret: options.signingSecret,
        timestamp: header(request.headers['x-slack-request-timestamp']),
        signature: header(request.headers['x-slack-signature']),
        rawBody: request.rawBody,
        now: now(),
      });
      if (!verdict.ok) {
        options.metrics?.webhookDeliveries.inc({ source: 'slack', event: 'unknown', outcome: 'refused' });
        return reply.code(401).send({ error: verdict.reason === 'stale' ? 'request timestamp too old or invalid' : 'invalid or missing signature' });
      }
      const body = request.body as Record<string, unknown> | undefined;
      // Slack checks the certificate of a new command URL with a signed `ssl_check=1` POST.
      if (body?.ssl_check === '1') return reply.code(200).send();
      return acceptSlashCommand('slack', body, reply, options);
    });
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
