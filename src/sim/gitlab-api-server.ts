// Also the GitLab of `canarybot demo`; lives in src/ so it ships in dist/.
// A GitLab REST API (v4) test server: in memory, over real HTTP, for exactly the endpoints
// canarybot uses, so the real @gitbeaker/rest client is exercised as in production. Every call is
// recorded; a call to a route it does not know is recorded as unexpected (answered 404) and
// `assertNoUnexpectedCalls()` fails the test. Faults (500s for a while or for a share of calls)
// are injected on purpose.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GitLabError,
  GitLabStore,
  type SeedGroup,
  type SeedMember,
  type SeedMergeRequest,
  type SeedProject,
  type SeedUser,
  type StoredDeployment,
  type StoredEnvironment,
  type StoredNote,
  type StoredStatus,
} from './gitlab-api-store.js';
import { createGitLabOAuth, type GitLabOAuth } from './gitlab-oauth.js';
import { GitLabRepositories } from './gitlab/repository-routes.js';

export type { SeedGroup, SeedMember, SeedMergeRequest, SeedProject, SeedUser, StoredDeployment, StoredEnvironment, StoredNote, StoredStatus };

export interface RecordedCall {
  method: string;
  /** Path below /api/v4, decoded per segment (`/projects/group/name`), without the query. */
  path: string;
  /** The route pattern that served it (`GET /projects/:id`), or null when unknown. */
  route: string | null;
  query: Record<string, string>;
  body: unknown;
  status: number;
  /** True when the answer was an injected fault. */
  faulted: boolean;
  at: number;
}

export interface FaultSpec {
  /** HTTP status to answer (default 500). */
  status?: number;
  /** Fault for this long from now (ms). Without forMs/times: until heal(). */
  forMs?: number;
  /** Fault only this many calls. */
  times?: number;
  /** Share of matching calls that fault (deterministic: evenly spread), default 1. */
  share?: number;
  /** Only calls whose `METHOD /path` matches. */
  match?: RegExp;
}

/**
 * An access token of a user other than the bot: personal, project (its bot user) or OAuth. GitLab
 * accepts each of them as `Authorization: Bearer` (and the first two as `PRIVATE-TOKEN`);
 * `GET /user` answers its user.
 */
export interface SeedToken {
  token: string;
  userId: number;
  kind?: 'personal' | 'project' | 'oauth';
  /** Default `['api']`. `GET /user` needs `api`, `read_api` or `read_user`, else 403 insufficient_scope. */
  scopes?: string[];
  revoked?: boolean;
  /** OAuth access tokens expire (two hours after they were issued); epoch ms. */
  expiresAt?: number;
}

export interface GitLabSeed {
  users?: SeedUser[];
  tokens?: SeedToken[];
  projects?: SeedProject[];
  mergeRequests?: SeedMergeRequest[];
  members?: SeedMember[];
  /** Groups with their direct members (for `approvals.groups`). */
  groups?: SeedGroup[];
}

export interface GitLabApiServer {
  /** Base URL for the client (`createGitLabClient({ url })`), e.g. http://127.0.0.1:1234 */
  readonly url: string;
  readonly token: string;
  /** The user the token belongs to (GET /user). */
  readonly botUser: SeedUser;
  /** GitLab as an OAuth provider (`/oauth/authorize`, `/oauth/token`): its applications and the user signed in to GitLab. */
  readonly oauth: GitLabOAuth;
  readonly calls: readonly RecordedCall[];
  readonly unexpected: readonly RecordedCall[];
  seed(seed: GitLabSeed): void;
  /** A note written by someone else (e.g. a `/canary approve` comment); opens a new discussion unless given one. */
  addNote(projectId: number, iid: number, body: string, authorId: number, discussionId?: string): StoredNote;
  notes(projectId: number, iid: number): StoredNote[];
  statuses(projectId: number, sha: string): StoredStatus[];
  deployments(projectId: number): StoredDeployment[];
  environments(projectId: number): StoredEnvironment[];
  /** Recorded calls of one route pattern, e.g. `PUT /projects/:id/merge_requests/:iid/notes/:note_id`. */
  callsTo(route: string): RecordedCall[];
  fail(spec?: FaultSpec): void;
  heal(): void;
  assertNoUnexpectedCalls(): void;
  /** Git repositories of projects seeded with `files` (commits, branches, merge requests, faults between read and write). */
  readonly repositories: GitLabRepositories;
  /** Forget recorded calls (data stays). */
  clearCalls(): void;
  /** Every OAuth access token issued so far reaches its expiry now (their refresh tokens still work), as after two hours. */
  expireOAuthTokens(): void;
  close(): Promise<void>;
}

export interface GitLabApiServerOptions {
  token?: string;
  botUser?: SeedUser;
  now?: () => number;
}

interface Fault {
  status: number;
  until: number | null;
  remaining: number | null;
  share: number;
  match: RegExp | null;
  seen: number;
}

interface Request {
  method: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown>;
  /** The user the request's token belongs to. */
  userId: number;
  /** The token's scopes. */
  scopes: string[];
  url: URL;
}
/** GitLab's OAuth access tokens expire two hours after they are issued. */
const OAUTH_TOKEN_LIFETIME_MS = 2 * 60 * 60_000;

type Answer = { status: number; body: unknown; headers?: Record<string, string>; raw?: boolean };
type Handler = (req: Request) => Answer;

export async function startGitLabApiServer(options: GitLabApiServerOptions = {}): Promise<GitLabApiServer> {
  const token = options.token ?? 'glpat-test-token';
  const botUser: SeedUser = options.botUser ?? { id: 1, username: 'canarybot', name: 'canarybot' };
  const now = options.now ?? Date.now;
  const store = new GitLabStore(now, botUser.id);
  store.users.set(botUser.id, botUser);
  const calls: RecordedCall[] = [];
  const unexpected: RecordedCall[] = [];
  const tokens = new Map<string, SeedToken>();
  // An access token GitLab issues at the end of the authorization-code flow is an OAuth token of that user.
  const oauth = createGitLabOAuth(
    {
      issue: (userId, scopes) => {
        const issued = `gloas-${randomBytes(20).toString('hex')}`;
        tokens.set(issued, { token: issued, userId, kind: 'oauth', scopes, expiresAt: now() + OAUTH_TOKEN_LIFETIME_MS });
        return issued;
      },
      revoke: (given) => {
        const known = tokens.get(given);
        if (known) known.revoked = true;
      },
    },
    now,
  );
  let fault: Fault | null = null;

  const routes: { method: string; pattern: string; regex: RegExp; keys: string[]; handler: Handler }[] = [];
  const route = (method: string, pattern: string, handler: Handler): void => {
    const keys: string[] = [];
    const regex = new RegExp(
      `^${pattern.replace(/:([a-z_]+)/g, (_m, key: string) => {
        keys.push(key);
        return '([^/]+)';
      })}$`,
    );
    routes.push({ method, pattern: `${method} ${pattern}`, regex, keys, handler });
  };
  const int = (value: string | undefined): number => (value !== undefined && /^\d+$/.test(value) ? Number(value) : NaN);
  const projectId = (req: Request): number => store.project(req.params.id ?? '').id;
  const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

  const repositories = new GitLabRepositories(store, now);
  repositories.register(route);

  route('GET', '/user', (req) => {
    const scopes = req.scopes;
    if (!scopes.some((scope) => scope === 'api' || scope === 'read_api' || scope === 'read_user')) {
      return {
        status: 403,
        body: { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'api read_user' },
      };
    }
    return { status: 200, body: store.userJson(store.user(req.userId)) };
  });
  route('GET', '/users', (req) => {
    let users = [...store.users.values()];
    if (req.query.username !== undefined) users = users.filter((u) => u.username.toLowerCase() === req.query.username?.toLowerCase());
    if (req.query.search !== undefined) {
      const q = req.query.search.toLowerCase();
      users = users.filter((u) =>
        q.includes('@')
          ? u.publicEmail?.toLowerCase() === q
          : u.username.toLowerCase().includes(q) || (u.name ?? '').toLowerCase().includes(q),
      );
    }
    return paginate(req, users.map((u) => store.userJson(u)));
  });
  route('GET', '/projects/:id', (req) => ({ status: 200, body: store.projectJson(store.project(req.params.id ?? '')) }));
  // https://docs.gitlab.com/api/freeze_periods/ — cron_timezone defaults to UTC.
  route('GET', '/projects/:id/freeze_periods', (req) => ({
    status: 200,
    body: (store.project(req.params.id ?? '').freezePeriods ?? []).map((period, i) => ({
      id: period.id ?? i + 1,
      freeze_start: period.freezeStart,
      freeze_end: period.freezeEnd,
      cron_timezone: period.cronTimezone ?? 'UTC',
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
    })),
  }));
  // Maintainers add and delete freezes (Settings → CI/CD → Deploy freezes) while releases run.
  route('POST', '/projects/:id/freeze_periods', (req) => {
    const project = store.project(req.params.id ?? '');
    const freezeStart = str(req.body.freeze_start);
    const freezeEnd = str(req.body.freeze_end);
    if (!freezeStart || !freezeEnd) return { status: 400, body: { message: { freeze_start: freezeStart ? [] : ["can't be blank"], freeze_end: freezeEnd ? [] : ["can't be blank"] } } };
    const periods = (project.freezePeriods ??= []);
    const id = Math.max(0, ...periods.map((period, i) => period.id ?? i + 1)) + 1;
    const cronTimezone = str(req.body.cron_timezone) ?? 'UTC';
    periods.push({ id, freezeStart, freezeEnd, cronTimezone });
    return { status: 201, body: { id, freeze_start: freezeStart, freeze_end: freezeEnd, cron_timezone: cronTimezone, created_at: new Date().toISOString(), updated_at: new Date().toISOString() } };
  });
  route('DELETE', '/projects/:id/freeze_periods/:freeze_period_id', (req) => {
    const project = store.project(req.params.id ?? '');
    const periods = project.freezePeriods ?? [];
    const index = periods.findIndex((period, i) => (period.id ?? i + 1) === int(req.params.freeze_period_id));
    if (index < 0) return { status: 404, body: { message: '404 Not found' } };
    // Later periods keep their ids.
    project.freezePeriods = periods.map((period, i) => ({ ...period, id: period.id ?? i + 1 })).filter((_, i) => i !== index);
    return { status: 204, body: null };
  });
  route('GET', '/projects/:id/merge_requests/:iid', (req) => ({
    status: 200,
    body: store.mergeRequestJson(store.mergeRequest(projectId(req), int(req.params.iid))),
  }));
  // https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests — state (opened, closed,
  // locked, merged, all), source_branch and target_branch filters, newest first (created_at desc).
  route('GET', '/projects/:id/merge_requests', (req) => {
    const pid = projectId(req);
    const state = req.query.state ?? 'all';
    if (!['opened', 'closed', 'locked', 'merged', 'all'].includes(state)) throw new GitLabError(400, 'state does not have a valid value');
    const mrs = [...store.mergeRequests.values()]
      .filter((mr) => mr.projectId === pid && (state === 'all' || (mr.state ?? 'opened') === state))
      .filter((mr) => req.query.source_branch === undefined || (mr.sourceBranch ?? 'feature') === req.query.source_branch)
      .filter((mr) => req.query.target_branch === undefined || (mr.targetBranch ?? 'main') === req.query.target_branch)
      .sort((a, b) => b.iid - a.iid);
    return paginate(req, mrs.map((mr) => store.mergeRequestJson(mr)));
  });
  route('GET', '/projects/:id/repository/commits/:sha/merge_requests', (req) => {
    const pid = projectId(req);
    const mrs = [...store.mergeRequests.values()]
      .filter((mr) => mr.projectId === pid && (mr.commits ?? []).includes(req.params.sha ?? ''))
      .sort((a, b) => b.iid - a.iid);
    return { status: 200, body: mrs.map((mr) => store.mergeRequestJson(mr)) };
  });
  route('GET', '/projects/:id/merge_requests/:iid/notes', (req) => {
    const pid = projectId(req);
    const iid = int(req.params.iid);
    store.mergeRequest(pid, iid);
    const desc = (req.query.sort ?? 'desc') === 'desc';
    const key = req.query.order_by === 'updated_at' ? 'updatedAt' : 'createdAt';
    const notes = store.notes
      .filter((n) => n.projectId === pid && n.iid === iid)
      .sort((a, b) => (a[key] === b[key] ? a.id - b.id : a[key] < b[key] ? -1 : 1) * (desc ? -1 : 1));
    return paginate(req, notes.map((n) => store.noteJson(n)));
  });
  route('POST', '/projects/:id/merge_requests/:iid/notes', (req) => {
    const note = store.addNote(projectId(req), int(req.params.iid), str(req.body.body) ?? '', req.userId);
    return { status: 201, body: store.noteJson(note) };
  });
  route('PUT', '/projects/:id/merge_requests/:iid/notes/:note_id', (req) => {
    const note = store.editNote(projectId(req), int(req.params.iid), int(req.params.note_id), str(req.body.body) ?? '', req.userId);
    return { status: 200, body: store.noteJson(note) };
  });
  route('POST', '/projects/:id/merge_requests/:iid/discussions/:discussion_id/notes', (req) => {
    const note = store.addNote(projectId(req), int(req.params.iid), str(req.body.body) ?? '', req.userId, req.params.discussion_id);
    return { status: 201, body: store.noteJson(note) };
  });
  route('POST', '/projects/:id/merge_requests/:iid/notes/:note_id/award_emoji', (req) => ({
    status: 201,
    body: store.award(projectId(req), int(req.params.iid), int(req.params.note_id), str(req.body.name) ?? '', req.userId),
  }));
  route('POST', '/projects/:id/statuses/:sha', (req) => {
    const status = store.setStatus(projectId(req), req.params.sha ?? '', {
      state: str(req.body.state) ?? '',
      name: str(req.body.name) ?? str(req.body.context) ?? 'default',
      targetUrl: str(req.body.target_url),
      description: str(req.body.description),
      ref: str(req.body.ref),
    });
    return { status: 201, body: store.statusJson(status) };
  });
  route('GET', '/projects/:id/repository/commits/:sha/statuses', (req) => {
    const pid = projectId(req);
    let statuses = store.statuses.filter((s) => s.projectId === pid && s.sha === req.params.sha);
    if (req.query.name !== undefined) statuses = statuses.filter((s) => s.name === req.query.name);
    return paginate(req, statuses.map((s) => store.statusJson(s)));
  });
  route('GET', '/projects/:id/members/all/:user_id', (req) => {
    const member = store.members.get(`${projectId(req)}/${int(req.params.user_id)}`);
    if (!member) throw new GitLabError(404, '404 Not found');
    const user = store.user(member.userId);
    return { status: 200, body: { ...store.userJson(user), access_level: member.accessLevel } };
  });
  route('GET', '/groups/:id/members/all/:user_id', (req) => {
    const userId = int(req.params.user_id);
    const accessLevel = store.groupMemberAccessLevel(req.params.id ?? '', userId);
    return { status: 200, body: { ...store.userJson(store.user(userId)), access_level: accessLevel } };
  });
  route('GET', '/projects/:id/deployments', (req) => {
    const pid = projectId(req);
    return paginate(req, store.deployments.filter((d) => d.projectId === pid).map((d) => store.deploymentJson(d)));
  });
  route('POST', '/projects/:id/deployments', (req) => {
    const deployment = store.createDeployment(
      projectId(req),
      {
        environment: str(req.body.environment) ?? '',
        sha: str(req.body.sha) ?? '',
        ref: str(req.body.ref) ?? '',
        tag: req.body.tag === true || req.body.tag === 'true',
        status: str(req.body.status) ?? '',
      },
      req.userId,
    );
    return { status: 201, body: store.deploymentJson(deployment) };
  });
  route('GET', '/projects/:id/environments', (req) => {
    const pid = projectId(req);
    const { name, search } = req.query;
    if (name !== undefined && search !== undefined) throw new GitLabError(400, 'name, search are mutually exclusive');
    if (search !== undefined && search.length < 3) throw new GitLabError(400, 'search must be at least 3 characters');
    const found = store.environments
      .filter((e) => e.projectId === pid)
      .filter((e) => (name === undefined ? true : e.name === name))
      .filter((e) => (search === undefined ? true : e.name.includes(search)));
    return paginate(req, found.map((e) => store.environmentJson(e)));
  });
  route('GET', '/projects/:id/environments/:environment_id', (req) => {
    const found = store.environments.find((e) => e.projectId === projectId(req) && e.id === int(req.params.environment_id));
    if (!found) throw new GitLabError(404, '404 Environment Not Found');
    return { status: 200, body: store.environmentJson(found) };
  });
  route('POST', '/projects/:id/environments', (req) => {
    const tier = str(req.body.tier) ?? undefined;
    const externalUrl = str(req.body.external_url) ?? undefined;
    const created = store.createEnvironment(projectId(req), {
      name: str(req.body.name) ?? '',
      ...(tier !== undefined ? { tier } : {}),
      ...(externalUrl !== undefined ? { externalUrl } : {}),
    });
    return { status: 201, body: store.environmentJson(created) };
  });
  route('PUT', '/projects/:id/environments/:environment_id', (req) => {
    const tier = str(req.body.tier) ?? undefined;
    const externalUrl = str(req.body.external_url) ?? undefined;
    const edited = store.editEnvironment(projectId(req), int(req.params.environment_id), {
      ...(tier !== undefined ? { tier } : {}),
      ...(externalUrl !== undefined ? { externalUrl } : {}),
    });
    return { status: 200, body: store.environmentJson(edited) };
  });
  route('PUT', '/projects/:id/deployments/:deployment_id', (req) => ({
    status: 200,
    body: store.deploymentJson(store.updateDeployment(projectId(req), int(req.params.deployment_id), str(req.body.status) ?? '')),
  }));

  const faultNow = (method: string, path: string): number | null => {
    if (!fault) return null;
    if (fault.until !== null && Date.now() >= fault.until) {
      fault = null;
      return null;
    }
    if (fault.match && !fault.match.test(`${method} ${path}`)) return null;
    const n = fault.seen;
    fault.seen += 1;
    // Evenly spread: call n faults when the running total of `share` crosses an integer.
    if (Math.floor((n + 1) * fault.share) === Math.floor(n * fault.share)) return null;
    const status = fault.status;
    if (fault.remaining !== null) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) fault = null;
    }
    return status;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const method = req.method ?? 'GET';
    // Split the raw (still encoded) path so a URL-encoded project path stays one segment.
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const segments = rawPath.startsWith('/api/v4/') ? rawPath.slice('/api/v4'.length).split('/') : null;
    const path = segments ? segments.map(safeDecode).join('/') : rawPath;
    const query = Object.fromEntries(url.searchParams.entries());
    const body = parseBody(raw, req.headers['content-type']);
    const record = (status: number, routeName: string | null, faulted: boolean): RecordedCall => {
      const call = { method, path, route: routeName, query, body, status, faulted, at: now() };
      calls.push(call);
      return call;
    };
    const send = (answer: Answer): void => {
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      if (answer.status === 204) res.end();
      else res.end(answer.raw ? String(answer.body) : JSON.stringify(answer.body));
    };

    const faulted = faultNow(method, path);
    if (faulted !== null) {
      record(faulted, null, true);
      send({ status: faulted, body: { message: `${faulted} Internal Server Error` } });
      return;
    }
    if (!segments && oauth.handle(req, res, url, body ?? null)) {
      record(res.statusCode, `${method} ${url.pathname}`, false);
      return;
    }
    const privateToken = req.headers['private-token'];
    const bearer = req.headers.authorization?.replace(/^Bearer /, '');
    const given = (Array.isArray(privateToken) ? privateToken[0] : privateToken) ?? bearer;
    const other = given === undefined || given === token ? undefined : tokens.get(given);
    // OAuth tokens are accepted only as a Bearer token (GitLab's REST API docs, "Authentication").
    const oauthAsPrivate = other?.kind === 'oauth' && privateToken !== undefined;
    if ((given !== token && !other) || oauthAsPrivate) {
      record(401, null, false);
      send({ status: 401, body: { message: '401 Unauthorized' } });
      return;
    }
    if (other?.expiresAt !== undefined && other.expiresAt <= now()) {
      record(401, null, false);
      send({ status: 401, body: { error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' } });
      return;
    }
    if (other?.revoked) {
      record(401, null, false);
      send({ status: 401, body: { error: 'invalid_token', error_description: 'Token was revoked. You have to re-authorize from the user.' } });
      return;
    }
    const requestUser = other ? store.users.get(other.userId) : botUser;
    if (!requestUser) {
      record(401, null, false);
      send({ status: 401, body: { message: '401 Unauthorized' } });
      return;
    }
    if (requestUser.state === 'blocked') {
      record(403, null, false);
      send({ status: 403, body: { message: '403 Forbidden - Your account has been blocked.' } });
      return;
    }
    const match = segments ? routes.find((r) => r.method === method && r.regex.test(rawPath.slice('/api/v4'.length))) : undefined;
    if (!match) {
      unexpected.push(record(404, null, false));
      send({ status: 404, body: { error: '404 Not Found' } });
      return;
    }
    const values = match.regex.exec(rawPath.slice('/api/v4'.length))?.slice(1) ?? [];
    const params = Object.fromEntries(match.keys.map((k, i) => [k, safeDecode(values[i] ?? '')]));
    let answer: Answer;
    try {
      if (body === undefined) throw new GitLabError(400, 'malformed request body');
      answer = match.handler({ method, params, query, body: body ?? {}, userId: requestUser.id, scopes: other?.scopes ?? ['api'], url });
    } catch (error) {
      if (!(error instanceof GitLabError)) throw error;
      answer = { status: error.status, body: { message: error.message } };
    }
    record(answer.status, match.pattern, false);
    send(answer);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `test server bug: ${String(error)}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    botUser,
    oauth,
    calls,
    unexpected,
    repositories,
    seed(seed) {
      for (const u of seed.users ?? []) store.users.set(u.id, u);
      for (const t of seed.tokens ?? []) tokens.set(t.token, t);
      for (const p of seed.projects ?? []) store.projects.set(p.id, p);
      for (const mr of seed.mergeRequests ?? []) store.mergeRequests.set(`${mr.projectId}#${mr.iid}`, mr);
      for (const m of seed.members ?? []) store.members.set(`${m.projectId}/${m.userId}`, m);
      for (const g of seed.groups ?? []) store.groups.set(g.id, g);
    },
    addNote: (projectId, iid, body, authorId, discussionId) => store.addNote(projectId, iid, body, authorId, discussionId),
    notes: (projectId, iid) => store.notes.filter((n) => n.projectId === projectId && n.iid === iid),
    statuses: (projectId, sha) => store.statuses.filter((s) => s.projectId === projectId && s.sha === sha),
    deployments: (projectId) => store.deployments.filter((d) => d.projectId === projectId),
    environments: (projectId) => store.environments.filter((e) => e.projectId === projectId),
    callsTo: (routeName) => calls.filter((c) => c.route === routeName),
    fail(spec = {}) {
      fault = {
        status: spec.status ?? 500,
        until: spec.forMs !== undefined ? Date.now() + spec.forMs : null,
        remaining: spec.times ?? null,
        share: Math.min(1, Math.max(0, spec.share ?? 1)),
        match: spec.match ?? null,
        seen: 0,
      };
    },
    heal() {
      fault = null;
    },
    assertNoUnexpectedCalls() {
      if (unexpected.length > 0) {
        const list = unexpected.map((c) => `${c.method} ${c.path}`).join(', ');
        throw new Error(`GitLab API test server: unexpected call(s): ${list}`);
      }
    },
    clearCalls() {
      calls.length = 0;
      unexpected.length = 0;
    },
    expireOAuthTokens() {
      for (const known of tokens.values()) if (known.kind === 'oauth' && known.expiresAt !== undefined) known.expiresAt = Math.min(known.expiresAt, now());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** undefined = malformed; null = no body. */
function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> | null | undefined {
  if (!raw) return null;
  if (contentType?.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  return Object.fromEntries(new URLSearchParams(raw).entries());
}

/** GitLab's offset pagination: page/per_page (default 20, max 100), X-* headers and a Link rel="next". */
function paginate(req: Request, items: unknown[]): Answer {
  const perPage = Math.min(100, Math.max(1, Number(req.query.per_page ?? 20) || 20));
  const page = Math.max(1, Number(req.query.page ?? 1) || 1);
  const totalPages = Math.max(1, Math.ceil(items.length / perPage));
  const headers: Record<string, string> = {
    'x-page': String(page),
    'x-per-page': String(perPage),
    'x-total': String(items.length),
    'x-total-pages': String(totalPages),
    'x-next-page': page < totalPages ? String(page + 1) : '',
  };
  if (page < totalPages) {
    const next = new URL(req.url);
    next.searchParams.set('page', String(page + 1));
    next.searchParams.set('per_page', String(perPage));
    headers.link = `<${next.toString()}>; rel="next"`;
  }
  return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers };
}
