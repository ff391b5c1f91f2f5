// Authentication of /api/*: every request names its caller with a GitLab access token, except reads
// when API_READ_ANONYMOUS is on. Registered once as an app-wide hook, so a route added under /api/
// later (the dashboard's event stream) is covered without doing anything.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CanarybotError } from '../core/errors.js';
import type { RouteModule } from '../server/app.js';
import { bearerToken } from '../server/routes/bearer-token.js';
import type { Caller, CallerIdentity } from './caller-identity.js';

/** `read`: GET/HEAD (anonymous allowed with API_READ_ANONYMOUS); `act`: anything that changes a release. */
export type ApiAccess = 'read' | 'act';

/** Where a request's token may come from; the first that returns one wins. Default: `Authorization: Bearer`. */
export type TokenSource = (request: FastifyRequest) => string | null;

export interface ApiAuthOptions {
  identity: CallerIdentity;
  /** API_READ_ANONYMOUS: reads without a token are allowed (a caller's token is still checked when given). */
  readAnonymous: boolean;
  /** Extra token sources after the Authorization header (e.g. the dashboard's session cookie). */
  tokenSources?: TokenSource[];
  /** Paths the hook guards (default: everything under `/api/`). */
  guards?: (path: string) => boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The GitLab user of the request's token; null for an anonymous read (API_READ_ANONYMOUS). Set by the API auth hook. */
    caller?: Caller | null;
  }
}

export const MISSING_TOKEN = 'This API needs your GitLab access token: send Authorization: Bearer <token>.';
export const INVALID_TOKEN = 'GitLab does not accept this token (unknown, expired, revoked, without read_user scope, or its user is blocked).';
export const GITLAB_DOWN = 'GitLab could not be asked who this token belongs to; nothing was changed. Try again in a minute.';
export const NEEDS_USER = 'This needs a signed-in GitLab user: send Authorization: Bearer <token>.';

export interface ApiAuth {
  /** Registers the hook that guards /api/* (put it before the API's routes). */
  routes: RouteModule;
  /**
   * Authenticates one request, for a route outside /api/ (or with its own rules): sets
   * `request.caller` and returns it, or answers 401/503 itself and returns undefined (then return
   * the reply). Anonymous (null) only for `read` with API_READ_ANONYMOUS.
   */
  authenticate(request: FastifyRequest, reply: FastifyReply, access: ApiAccess): Promise<Caller | null | undefined>;
  /** The caller of a token, or null; throws CanarybotError GITLAB_UNAVAILABLE during a GitLab outage. */
  identify(token: string): Promise<Caller | null>;
}

const underApi = (path: string): boolean => path === '/api' || path.startsWith('/api/');

export function createApiAuth(options: ApiAuthOptions): ApiAuth {
  const sources: TokenSource[] = [(request) => bearerToken(request.headers.authorization), ...(options.tokenSources ?? [])];
  const guards = options.guards ?? underApi;

  function tokenOf(request: FastifyRequest): string | null {
    for (const source of sources) {
      const token = source(request);
      if (token) return token;
    }
    return null;
  }

  function unauthorized(reply: FastifyReply, message: string): undefined {
    void reply.code(401).header('www-authenticate', 'Bearer realm="canarybot"').send({ error: message });
    return undefined;
  }

  async function authenticate(request: FastifyRequest, reply: FastifyReply, access: ApiAccess): Promise<Caller | null | undefined> {
    const token = tokenOf(request);
    if (token === null) {
      if (access === 'read' && options.readAnonymous) {
        request.caller = null;
        return null;
      }
      return unauthorized(reply, MISSING_TOKEN);
    }
    let caller: Caller | null;
    try {
      caller = await options.identity.identify(token);
    } catch (error) {
      request.log.warn({ err: error instanceof CanarybotError ? error.message : (error as Error).name }, 'could not identify an API caller');
      void reply.code(503).header('retry-after', '30').send({ error: GITLAB_DOWN });
      return undefined;
    }
    if (caller === null) return unauthorized(reply, INVALID_TOKEN);
    request.caller = caller;
    return caller;
  }

  return {
    identify: (token) => options.identity.identify(token),
    authenticate,
    routes: (app: FastifyInstance) => {
      app.decorateRequest('caller', undefined);
      app.addHook('onRequest', async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        if (!guards(path)) return;
        const access: ApiAccess = request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'act';
        const caller = await authenticate(request, reply, access);
        if (caller === undefined) return reply;
      });
    },
  };
}

/** The signed-in caller of a guarded request, or undefined after answering 401 (anonymous reads have none). */
export function requireCaller(request: FastifyRequest, reply: FastifyReply): Caller | undefined {
  if (request.caller) return request.caller;
  void reply.code(401).header('www-authenticate', 'Bearer realm="canarybot"').send({ error: NEEDS_USER });
  return undefined;
}
