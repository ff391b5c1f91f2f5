import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteModule } from '../app.js';

const DELIVERY_HEADERS = ['x-gitlab-webhook-uuid', 'idempotency-key', 'webhook-id', 'x-gitlab-event-uuid', 'x-request-id'] as const;

function deliveryId(request: FastifyRequest): string | undefined {
  for (const name of DELIVERY_HEADERS) {
    const value = request.headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first) return first.slice(0, 128);
  }
  return undefined;
}

/**
 * A child logger per delivery: every line a webhook's handling logs carries the sender's delivery
 * id (GitLab's webhook UUID, an Idempotency-Key, …) next to fastify's request id. Register first:
 * the hook applies to the routes registered after it.
 */
export function deliveryLogs(): RouteModule {
  return (app: FastifyInstance) => {
    app.addHook('onRequest', async (request) => {
      if (request.method !== 'POST') return;
      const delivery = deliveryId(request);
      request.log = request.log.child({ delivery: delivery ?? request.id, route: request.url.split('?')[0] });
    });
  };
}
