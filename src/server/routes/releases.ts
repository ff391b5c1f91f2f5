import type { FastifyInstance } from 'fastify';
import { TERMINAL_STATES, type Release } from '../../core/release.js';
import type { HistoryQuery, ReleaseHistory, ReleaseQuery, ReleaseReader } from '../../engine/api.js';
import { boardRelease, releasePage, type LinkSettings } from '../../engine/board-view.js';
import { releaseSummary } from '../../engine/release-view.js';
import type { RouteModule } from '../app.js';

export interface ReleasesRoutesOptions {
  reader: Pick<ReleaseReader, 'get' | 'list'>;
  /** Filters and paging of `GET /api/releases` (the dashboard's history); without it they are refused. */
  history?: ReleaseHistory;
  /** Grafana and Jaeger for the links of a release. */
  links?: LinkSettings;
  /** Whether the store can answer now (its Redis connected); false → 503 at once, the store is not asked. */
  available?: () => boolean;
}

const UNAVAILABLE = { error: 'the release store (Redis) is unavailable; retry in a moment' } as const;

const MAX_LIMIT = 500;
const HISTORY_PARAMS = ['ended', 'outcome', 'user', 'from', 'to', 'before'] as const;

type Params = Record<string, string | undefined>;

/**
 * `GET /api/releases` (newest first; `?state=live`, `?service=`, `?limit=`; history filters `?ended=true`,
 * `?outcome=<state>`, `?user=<username>`, `?from=`/`?to=` (ISO dates), `?before=<next>` with `next` in the
 * answer; `?view=board` answers board rows) and `GET /api/releases/:id`.
 */
export function releasesRoutes(options: ReleasesRoutesOptions): RouteModule {
  return async (root: FastifyInstance) => {
    await root.register(async (app) => {
      // During a Redis outage: 503 at once (not a 500 after the driver's retries, with its internals).
      app.addHook('onRequest', async (_request, reply) => {
        if (options.available && !options.available()) return reply.code(503).send(UNAVAILABLE);
      });
      app.setErrorHandler(async (error: { statusCode?: number; message: string }, request, reply) => {
        if (error.statusCode !== undefined && error.statusCode < 500) return reply.code(error.statusCode).send({ error: error.message });
        request.log.error({ err: error.message }, 'release store read failed');
        return reply.code(503).send(UNAVAILABLE);
      });
      routes(app, options);
    });
  };
}

function routes(app: FastifyInstance, options: ReleasesRoutesOptions): void {
  app.get('/api/releases', async (request, reply) => {
    const params = request.query as Params;
    if (params.view !== undefined && params.view !== 'board') return reply.code(400).send({ error: 'view must be "board" (or left out for summaries)' });
    const view = params.view === 'board' ? (r: Release) => boardRelease(r, options.links) : releaseSummary;
    let limit: number | undefined;
    if (params.limit !== undefined) {
      limit = Number(params.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        return reply.code(400).send({ error: `limit must be an integer from 1 to ${MAX_LIMIT}` });
      }
    }
    if (HISTORY_PARAMS.some((name) => params[name] !== undefined)) {
      const query = historyQuery(params, limit ?? 50);
      if (typeof query === 'string') return reply.code(400).send({ error: query });
      if (!options.history) return reply.code(400).send({ error: 'history filters are not available here' });
      const page = await options.history.history(query);
      return { releases: page.releases.map(view), next: page.next };
    }
    const query: ReleaseQuery = {};
    if (params.state !== undefined) {
      if (params.state !== 'live') return reply.code(400).send({ error: 'state must be "live" (or left out for all releases)' });
      query.state = 'live';
    }
    if (params.service) query.service = params.service;
    if (limit !== undefined) query.limit = limit;
    const releases = await options.reader.list(query);
    return { releases: releases.map(view) };
  });

  app.get('/api/releases/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const release = await options.reader.get(id);
    if (!release) return reply.code(404).send({ error: `no release ${id}` });
    return releasePage(release, options.links);
  });
}

/** The history query, or the sentence saying which parameter is wrong. */
function historyQuery(params: Params, limit: number): HistoryQuery | string {
  if (params.state !== undefined) return 'state cannot be combined with history filters (use outcome)';
  const query: HistoryQuery = { limit };
  if (params.service) query.service = params.service;
  if (params.ended !== undefined) {
    if (params.ended !== 'true' && params.ended !== 'false') return 'ended must be true or false';
    query.ended = params.ended === 'true';
  }
  if (params.outcome) {
    if (!(TERMINAL_STATES as readonly string[]).includes(params.outcome)) return `outcome must be one of ${TERMINAL_STATES.join(', ')}`;
    query.outcome = params.outcome;
  }
  if (params.user) query.user = params.user.replace(/^@/, '');
  for (const name of ['from', 'to'] as const) {
    const value = params[name];
    if (!value) continue;
    const at = Date.parse(value);
    if (!Number.isFinite(at)) return `${name} must be a date (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)`;
    query[name] = at;
  }
  if (params.before) {
    if (!/^\d+-.+$/.test(params.before)) return 'before must be the "next" value of a previous page';
    query.before = params.before;
  }
  return query;
}
