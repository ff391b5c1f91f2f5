// `GET /api/me`: who the token belongs to and, per release, which commands they may give now (the
// dashboard shows a button only when both `allowed` and `applicable` hold).

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CanarybotError } from '../core/errors.js';
import { isLive, type Release } from '../core/release.js';
import type { ReleaseReader } from '../engine/api.js';
import { latestPerTarget } from '../chatops/resolve-service.js';
import type { RouteModule } from '../server/app.js';
import { requireCaller } from './api-auth.js';
import { commandPermissions, memoizedPolicyGitLab, type PolicyGitLab } from './permissions.js';

export interface MeRouteOptions {
  reader: Pick<ReleaseReader, 'get' | 'list'>;
  gitlab: PolicyGitLab;
  now?: () => number;
  logger?: Pick<Logger, 'warn'>;
}

/** Releases looked at per answer: every live one and each target's newest (for retry). */
const RECENT = 200;

export function meRoute(options: MeRouteOptions): RouteModule {
  const now = options.now ?? Date.now;
  return (app: FastifyInstance) => {
    app.get('/api/me', async (request, reply) => {
      const caller = requireCaller(request, reply);
      if (!caller) return reply;
      const { release: only } = request.query as { release?: string };
      let releases: Release[];
      if (only !== undefined) {
        const found = await options.reader.get(only);
        if (!found) return reply.code(404).send({ error: `There is no release ${only}.` });
        releases = [found];
      } else {
        const [live, recent] = await Promise.all([options.reader.list({ state: 'live' }), options.reader.list({ limit: RECENT })]);
        const ids = new Set<string>();
        releases = [...live, ...latestPerTarget(recent)].filter((release) => !ids.has(release.id) && ids.add(release.id) !== undefined);
      }
      const gitlab = memoizedPolicyGitLab(options.gitlab);
      try {
        const at = now();
        const views = await Promise.all(
          releases.map(async (release) => ({
            id: release.id,
            service: release.service,
            namespace: release.namespace,
            cluster: release.cluster,
            state: release.state,
            live: isLive(release.state),
            commands: await commandPermissions(gitlab, caller, release, at),
          })),
        );
        return { user: caller, releases: views };
      } catch (error) {
        if (!(error instanceof CanarybotError && error.code.startsWith('GITLAB_'))) throw error;
        options.logger?.warn({ err: error.message }, 'api me: the approvals policy could not be checked');
        return reply.code(503).header('retry-after', '30').send({ error: 'GitLab could not be asked what you may do; try again in a minute.' });
      }
    });
  };
}
