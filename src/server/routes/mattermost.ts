import type { FastifyInstance } from 'fastify';
import { verifyMattermostToken } from '../../chatops/verify-mattermost-token.js';
import type { RouteModule } from '../app.js';
import { acceptSlashCommand, type ChatRouteOptions } from './chat-slash-command.js';

export interface MattermostRouteOptions extends ChatRouteOptions {
  /** MATTERMOST_TOKEN: the slash command's token. */
  token: string;
}

/** `POST /chatops/mattermost`: Mattermost slash commands (form or JSON), checked with the command's token. */
export function mattermostRoute(options: MattermostRouteOptions): RouteModule {
  return (app: FastifyInstance) => {
    app.post('/chatops/mattermost', async (request, reply) => {
      const body = request.body as Record<string, unknown> | undefined;
      if (!verifyMattermostToken(options.token, request.headers.authorization, body?.token)) {
        options.metrics?.webhookDeliveries.inc({ source: 'mattermost', event: 'unknown', outcome: 'refused' });
        return reply.code(401).send({ error: 'invalid or missing token' });
      }
      return acceptSlashCommand('mattermost', body, reply, options);
    });
  };
}
