import type { FastifyInstance } from 'fastify';
import type { ReleaseQuery, ReleaseReader } from '../../engine/api.js';
import { releaseDetail, releaseSummary } from '../../engine/release-view.js';
import type { RouteModule } from '../app.js';

export interface ReleasesRoutesOptions {
  reader: Pick<ReleaseReader, 'get' | 'list'>;
}

const MAX_LIMIT = 500;

/** `GET /api/releases` (newest first; `?state=live`, `?service=`, `?limit=`) and `GET /api/releases/:id`. */
export function releasesRoutes(options: ReleasesRoutesOptions): RouteModule {
  return (app: FastifyInstance) => {
    app.get('/api/releases', async (request, reply) => {
      const params = request.query as Record<string, string | undefined>;
      const query: ReleaseQuery = {};
      if (params.state !== undefined) {
        if (params.state !== 'live') return reply.code(400).send({ error: 'state must be "live" (or left out for all releases)' });
        query.state = 'live';
      }
      if (params.service) query.service = params.service;
      if (params.limit !== undefined) {
        const limit = Number(params.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
          return reply.code(400).send({ error: `limit must be an integer from 1 to ${MAX_LIMIT}` });
        }
        query.limit = limit;
      }
      const releases = await options.reader.list(query);
      return { releases: releases.map(releaseSummary) };
    });

    app.get('/api/releases/:id', async (request, reply) => {
      const { id } = request.params as { id: string };
      const release = await options.reader.get(id);
      if (!release) return reply.code(404).send({ error: `no release ${id}` });
      return releaseDetail(release);
    });
  };
}
