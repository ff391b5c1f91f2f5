import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics.js';
import type { RouteModule } from '../app.js';

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** Refreshes gauges that are read on demand (queue depth); bounded by `refreshTimeoutMs`, never fails the scrape. */
  refresh?: () => Promise<void>;
  refreshTimeoutMs?: number;
}

/** `GET /metrics`: the bot's registry in Prometheus' text format. */
export function metricsRoute(options: MetricsRouteOptions): RouteModule {
  const timeoutMs = options.refreshTimeoutMs ?? 1_000;
  return (app: FastifyInstance) => {
    app.get('/metrics', async (request, reply) => {
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
