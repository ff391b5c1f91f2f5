import type { FastifyInstance } from 'fastify';
import { hash } from 'node:crypto';
import { SLACK_MAX_AGE_SECONDS, verifySlackSignature } from '../../chatops/verify-slack-signature.js';
import type { RouteModule } from '../app.js';
import { acceptSlashCommand, type ChatRouteOptions } from './chat-slash-command.js';

export interface SlackRouteOptions extends ChatRouteOptions {
  /** SLACK_SIGNING_SECRET */
  signingSecret: string;
  /**
   * Makes each signature single use: `claim` resolves true the first time a key is seen within
   * `ttlSeconds` (Redis SET NX EX), false for a replay; it throws when it cannot tell.
   */
  nonces?: { claim(key: string, ttlSeconds: number): Promise<boolean> };
}

/** A signature is valid for 5 minutes either side of its timestamp: remember it for both. */
const NONCE_TTL_SECONDS = 2 * SLACK_MAX_AGE_SECONDS + 60;

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
      if (options.nonces) {
        let fresh: boolean;
        try {
          fresh = await options.nonces.claim(hash('sha256', header(request.headers['x-slack-signature']) ?? ''), NONCE_TTL_SECONDS);
        } catch {
          return reply.code(200).send({ response_type: 'ephemeral', text: 'canarybot cannot take commands right now (its queue is unavailable); nothing was changed. Try again in a minute.' });
        }
        if (!fresh) {
          options.metrics?.webhookDeliveries.inc({ source: 'slack', event: 'unknown', outcome: 'duplicate' });
          return reply.code(401).send({ error: 'this signed request was already received (replay)' });
        }
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
