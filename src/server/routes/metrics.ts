import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics.js';
import { secretChecker } from '../../secrets/secrets-equal.js';
import type { RouteModule } from '../app.js';
import { bearerToken } from './bearer-token.js';

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** Refreshes gauges that are read on demand (queue depth); bounded by `refreshTimeoutMs`, never fails the scrape. */
  refresh?: () => Promise<void>;
  refreshTimeoutMs?: number;
  /** METRICS_TOKEN: when set, a scrape must send `Authorization: Bearer <token>`. */
  token?: string;
}

/** `GET /metrics`: the bot's registry in Prometheus' text format. */
export function metricsRoute(options: MetricsRouteOptions): RouteModule {
  const timeoutMs = options.refreshTimeoutMs ?? 1_000;
  const tokenMatches = options.token ? secretChecker(options.token) : null;
  return (app: FastifyInstance) => {
    app.get('/metrics', async (request, reply) => {
      if (tokenMatches && !tokenMatches(bearerToken(request.headers.authorization))) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="canarybot-metrics"')
          .send({ error: 'The metrics need METRICS_TOKEN: send Authorization: Bearer <token> (bearer_token_file in the scrape config).' });
      }
      if (options.refresh) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        });
        // A Redis outage leaves the last known depth; the scrape itself still answers.
        await Promise.race([options.refresh().catch((error: Error) => request.log.debug({ err: error.message }, 'metrics refresh failed')), timeout]);
        clearTimeout(timer);
      }
      const body = await options.metrics.registry.metrics();
      return reply.header('content-type', options.metrics.registry.contentType).send(body);
    });
  };
}
