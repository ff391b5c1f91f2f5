// In-memory GitLab data for the GitLab API test server, with the semantics the bot depends on:
// notes and their discussions, award emoji, commit statuses and their state machine, members with
// inherited access, deployments. Objects are returned in GitLab's REST (snake_case) shapes.

import { randomBytes } from 'node:crypto';

export interface SeedUser {
  id: number;
  username: string;
  name?: string;
  state?: string;
  publicEmail?: string;
}

export interface SeedProject {
  id: number;
  /** `group/name` */
  path: string;
  defaultBranch?: string;
  /** Repository content of the default branch (path → text); a project without it has no repository. */
  files?: Record<string, string>;
  /** The project runs a pipeline for every merge request (merge when pipeline succeeds waits for it). */
  pipelines?: boolean;
  /** Deploy freeze periods (Settings → CI/CD → Deploy freezes): crons in cron_timezone. */
  freezePeriods?: { id?: number; freezeStart: string; freezeEnd: string; cronTimezone?: string }[];
}

export interface SeedMergeRequest {
  projectId: number;
  iid: number;
  title?: string;
  /** GitLab's vocabulary: opened | closed | merged | locked. */
  state?: 'opened' | 'closed' | 'merged' | 'locked';
  authorId: number;
  sourceBranch?: string;
  targetBranch?: string;
  sha?: string;
  mergeCommitSha?: string | null;
  squashCommitSha?: string | null;
  updatedAt?: string;
  /** Commits whose merge-requests-for-commit answer includes this MR. */
  commits?: string[];
  description?: string;
  mergeWhenPipelineSucceeds?: boolean;
  headPipeline?: { id: number; sha: string; status: 'running' | 'success' | 'failed' } | null;
  mergedAt?: string | null;
  closedAt?: string | null;
}

export interface SeedMember {
  projectId: number;
  userId: number;
  /** 10 guest, 20 reporter, 30 developer, 40 maintainer, 50 owner. */
  accessLevel: number;
  /** Membership through a parent group (only visible via members/all). */
  inherited?: boolean;
}

export interface SeedGroup {
  id: number;
  /** Full path, e.g. `platform/release-managers`; a seeded group whose path is a prefix is its parent. */
  path: string;
  /** Direct members; members of ancestor groups are inherited (members/all). */
  members?: { userId: number; accessLevel: number }[];
}

export interface StoredNote {
  id: number;
  projectId: number;
  iid: number;
  discussionId: string;
  body: string;
  authorId: number;
  system: boolean;
  createdAt: string;
  updatedAt: string;
  /** Bodies this note had before each edit, oldest first. */
  history: string[];
  awards: { name: string; userId: number }[];
}

export interface StoredStatus {
  id: number;
  projectId: number;
  sha: string;
  name: string;
  status: 'created' | 'pending' | 'running' | 'success' | 'failed' | 'canceled';
  targetUrl: string | null;
  description: string | null;
  ref: string | null;
  createdAt: string;
}

export interface StoredDeployment {
  id: number;
  iid: number;
  projectId: number;
  environment: string;
  environmentId: number;
  sha: string;
  ref: string;
  tag: boolean;
  status: 'created' | 'running' | 'success' | 'failed' | 'canceled';
  userId: number;
  createdAt: string;
  updatedAt: string;
}

export interface StoredEnvironment {
  id: number;
  projectId: number;
  name: string;
  tier: string;
  externalUrl: string | null;
  createdAt: string;
  updatedAt: string;
}

const ENVIRONMENT_TIERS = ['production', 'staging', 'testing', 'development', 'other'];

/** GitLab's guess of a tier from an environment's name (Environment#guess_tier), checked in this order. */
export function guessEnvironmentTier(name: string): string {
  if (/(dev|review|trunk)/i.test(name)) return 'development';
  if (/(test|tst|int|ac(ce|)pt|qa|qc|control|quality)/i.test(name)) return 'testing';
  if (/(st(a|)g|mod(e|)l|pre|demo|non)/i.test(name)) return 'staging';
  if (/(pr(o|)d|live)/i.test(name)) return 'production';
  return 'other';
}

export class GitLabError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_EVENTS: Record<string, string> = {
  pending: 'enqueue',
  running: 'run',
  success: 'success',
  failed: 'drop',
  canceled: 'cancel',
};
/** Ci::HasStatus: which states each event may leave from. */
const STATUS_FROM: Record<string, readonly string[]> = {
  enqueue: ['created'],
  run: ['created', 'pending'],
  success: ['created', 'pending', 'running'],
  drop: ['created', 'pending', 'running'],
  cancel: ['created', 'pending', 'running'],
};

export class GitLabStore {
  readonly users = new Map<number, SeedUser>();
  readonly projects = new Map<number, SeedProject>();
  readonly mergeRequests = new Map<string, SeedMergeRequest>();
  readonly members = new Map<string, SeedMember>();
  readonly groups = new Map<number, SeedGroup>();
  readonly notes: StoredNote[] = [];
  readonly statuses: StoredStatus[] = [];
  readonly deployments: StoredDeployment[] = [];
  readonly environments: StoredEnvironment[] = [];
  private nextId = 1000;

  constructor(
    private readonly now: () => number,
    /** The user the API token belongs to. */
    readonly botUserId: number,
  ) {}

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private id(): number {
    this.nextId += 1;
    return this.nextId;
  }

  // ---- lookups ----------------------------------------------------------------------------

  project(idOrPath: string): SeedProject {
    const byId = /^\d+$/.test(idOrPath) ? this.projects.get(Number(idOrPath)) : undefined;
    const found = byId ?? [...this.projects.values()].find((p) => p.path === idOrPath);
    if (!found) throw new GitLabError(404, '404 Project Not Found');
    return found;
  }

  group(idOrPath: string): SeedGroup {
    const byId = /^\d+$/.test(idOrPath) ? this.groups.get(Number(idOrPath)) : undefined;
    const found = byId ?? [...this.groups.values()].find((g) => g.path === idOrPath);
    if (!found) throw new GitLabError(404, '404 Group Not Found');
    return found;
  }

  /**
   * GitLab's members/all of a group: direct members and those inherited from ancestor groups, at
   * the highest level any of them grants; 404 for anyone else.
   */
  groupMemberAccessLevel(idOrPath: string, userId: number): number {
    const group = this.group(idOrPath);
    const levels = [...this.groups.values()]
      .filter((g) => g.path === group.path || group.path.startsWith(`${g.path}/`))
      .flatMap((g) => (g.members ?? []).filter((m) => m.userId === userId).map((m) => m.accessLevel));
    if (levels.length === 0) throw new GitLabError(404, '404 Not found');
    return Math.max(...levels);
  }

  user(id: number): SeedUser {
    const user = this.users.get(id);
    if (!user) throw new GitLabError(404, '404 User Not Found');
    return user;
  }

  mergeRequest(projectId: number, iid: number): SeedMergeRequest {
    const mr = this.mergeRequests.get(`${projectId}#${iid}`);
    if (!mr) throw new GitLabError(404, '404 Not found');
    return mr;
  }

  note(projectId: number, iid: number, noteId: number): StoredNote {
    const note = this.notes.find((n) => n.id === noteId && n.projectId === projectId && n.iid === iid);
    if (!note) throw new GitLabError(404, '404 Note Not Found');
    return note;
  }

  // ---- REST shapes ------------------------------------------------------------------------

  userJson(user: SeedUser): Record<string, unknown> {
    return {
      id: user.id,
      username: user.username,
      name: user.name ?? user.username,
      state: user.state ?? 'active',
      public_email: user.publicEmail ?? null,
      web_url: `http://gitlab.test/${user.username}`,
    };
  }

  projectJson(p: SeedProject): Record<string, unknown> {
    return {
      id: p.id,
      name: p.path.split('/').pop(),
      path_with_namespace: p.path,
      web_url: `http://gitlab.test/${p.path}`,
      default_branch: p.defaultBranch ?? 'main',
    };
  }

  mergeRequestJson(mr: SeedMergeRequest): Record<string, unknown> {
    const project = this.project(String(mr.projectId));
    return {
      id: mr.projectId * 100_000 + mr.iid,
      iid: mr.iid,
      project_id: mr.projectId,
      title: mr.title ?? `MR ${mr.iid}`,
      state: mr.state ?? 'opened',
      web_url: `http://gitlab.test/${project.path}/-/merge_requests/${mr.iid}`,
      author: this.userJson(this.user(mr.authorId)),
      source_branch: mr.sourceBranch ?? 'feature',
      target_branch: mr.targetBranch ?? 'main',
      sha: mr.sha ?? null,
      merge_commit_sha: mr.mergeCommitSha ?? null,
      squash_commit_sha: mr.squashCommitSha ?? null,
      updated_at: mr.updatedAt ?? '2026-01-01T00:00:00.000Z',
      description: mr.description ?? '',
      merge_when_pipeline_succeeds: mr.mergeWhenPipelineSucceeds ?? false,
      head_pipeline: mr.headPipeline ? { id: mr.headPipeline.id, sha: mr.headPipeline.sha, status: mr.headPipeline.status, web_url: `http://gitlab.test/${project.path}/-/pipelines/${mr.headPipeline.id}` } : null,
      merged_at: mr.mergedAt ?? null,
      closed_at: mr.closedAt ?? null,
    };
  }

  noteJson(n: StoredNote): Record<string, unknown> {
    return {
      id: n.id,
      type: 'DiscussionNote',
      body: n.body,
      author: this.userJson(this.user(n.authorId)),
      system: n.system,
      noteable_type: 'MergeRequest',
      noteable_iid: n.iid,
      project_id: n.projectId,
      created_at: n.createdAt,
      updated_at: n.updatedAt,
      resolvable: false,
    };
  }

  statusJson(s: StoredStatus): Record<string, unknown> {
    return {
      id: s.id,
      sha: s.sha,
      ref: s.ref,
      status: s.status,
      name: s.name,
      target_url: s.targetUrl,
      description: s.description,
      created_at: s.createdAt,
      allow_failure: false,
    };
  }

  deploymentJson(d: StoredDeployment): Record<string, unknown> {
    return {
      id: d.id,
      iid: d.iid,
      ref: d.ref,
      sha: d.sha,
      status: d.status,
      created_at: d.createdAt,
      updated_at: d.updatedAt,
      user: this.userJson(this.user(d.userId)),
      environment: { id: d.environmentId, name: d.environment },
      deployable: null,
    };
  }

  // ---- writes -----------------------------------------------------------------------------

  addNote(projectId: number, iid: number, body: string, authorId: number, discussionId?: string): StoredNote {
    this.mergeRequest(projectId, iid);
    if (discussionId !== undefined && !this.notes.some((n) => n.discussionId === discussionId && n.projectId === projectId && n.iid === iid)) {
      throw new GitLabError(404, '404 Discussion Not Found');
    }
    if (!body.trim()) throw new GitLabError(400, 'body is missing');
    const at = this.iso();
    const note: StoredNote = {
      id: this.id(),
      projectId,
      iid,
      discussionId: discussionId ?? randomBytes(20).toString('hex'),
      body,
      authorId,
      system: false,
      createdAt: at,
      updatedAt: at,
      history: [],
      awards: [],
    };
    this.notes.push(note);
    return note;
  }

  editNote(projectId: number, iid: number, noteId: number, body: string, userId: number): StoredNote {
    const note = this.note(projectId, iid, noteId);
    if (note.authorId !== userId) throw new GitLabError(403, '403 Forbidden');
    if (!body.trim()) throw new GitLabError(400, 'body is missing');
    note.history.push(note.body);
    note.body = body;
    note.updatedAt = this.iso();
    return note;
  }

  award(projectId: number, iid: number, noteId: number, name: string, userId: number): Record<string, unknown> {
    const note = this.note(projectId, iid, noteId);
    if (!/^[a-z0-9_+-]+$/.test(name)) throw new GitLabError(400, 'name is invalid');
    // GitLab answers 404 with this message when the same user awards the same emoji twice.
    if (note.awards.some((a) => a.name === name && a.userId === userId)) {
      throw new GitLabError(404, '404 Award Emoji Name has already been taken Not Found');
    }
    note.awards.push({ name, userId });
    return { id: this.id(), name, user: this.userJson(this.user(userId)), awardable_id: noteId, awardable_type: 'Note' };
  }

  /**
   * The latest status of (sha, name) is moved by the event the new state names; an event its
   * state machine does not allow from the current state is GitLab's 400, e.g.
   * `Cannot transition status via :run from :running`. Finished statuses accept no event.
   */
  setStatus(
    projectId: number,
    sha: string,
    input: { state: string; name: string; targetUrl: string | null; description: string | null; ref: string | null },
  ): StoredStatus {
    const event = STATUS_EVENTS[input.state];
    if (!event) throw new GitLabError(400, 'state does not have a valid value');
    if (!/^[0-9a-f]{7,64}$/.test(sha)) throw new GitLabError(404, '404 Commit Not Found');
    let status = this.statuses.filter((s) => s.projectId === projectId && s.sha === sha && s.name === input.name).at(-1);
    if (!status) {
      status = {
        id: this.id(),
        projectId,
        sha,
        name: input.name,
        status: 'created',
        targetUrl: null,
        description: null,
        ref: input.ref,
        createdAt: this.iso(),
      };
      this.statuses.push(status);
    }
    if (!STATUS_FROM[event]?.includes(status.status)) {
      throw new GitLabError(
        400,
        `Cannot transition status via :${event} from :${status.status} (Reason(s): Status cannot transition via "${event}")`,
      );
    }
    status.status = input.state as StoredStatus['status'];
    if (input.targetUrl !== null) status.targetUrl = input.targetUrl;
    if (input.description !== null) status.description = input.description;
    return status;
  }

  createDeployment(
    projectId: number,
    input: { environment: string; sha: string; ref: string; tag: boolean; status: string },
    userId: number,
  ): StoredDeployment {
    if (!input.environment || !input.sha || !input.ref) throw new GitLabError(400, 'environment, sha and ref are required');
    if (!['running', 'success', 'failed', 'canceled'].includes(input.status)) {
      throw new GitLabError(400, 'status does not have a valid value');
    }
    // GitLab creates a missing environment on the first deployment, guessing its tier from the name.
    const environmentId = (this.environment(projectId, input.environment) ?? this.createEnvironment(projectId, { name: input.environment })).id;
    const at = this.iso();
    const deployment: StoredDeployment = {
      id: this.id(),
      iid: this.deployments.filter((d) => d.projectId === projectId).length + 1,
      projectId,
      environment: input.environment,
      environmentId,
      sha: input.sha,
      ref: input.ref,
      tag: input.tag,
      status: input.status as StoredDeployment['status'],
      userId,
      createdAt: at,
      updatedAt: at,
    };
    this.deployments.push(deployment);
    return deployment;
  }

  environment(projectId: number, name: string): StoredEnvironment | undefined {
    return this.environments.find((e) => e.projectId === projectId && e.name === name);
  }

  environmentJson(e: StoredEnvironment): Record<string, unknown> {
    const slug = e.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 17);
    return {
      id: e.id,
      name: e.name,
      slug: `${slug}-${e.id.toString(36)}`,
      external_url: e.externalUrl,
      state: 'available',
      tier: e.tier,
      created_at: e.createdAt,
      updated_at: e.updatedAt,
    };
  }

  createEnvironment(projectId: number, input: { name: string; tier?: string; externalUrl?: string }): StoredEnvironment {
    if (!input.name) throw new GitLabError(400, 'name is missing');
    if (!/^[A-Za-z0-9 _/${}.-]+$/.test(input.name) || input.name.startsWith('/') || input.name.endsWith('/')) {
      throw new GitLabError(400, "Name can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, but it cannot start or end with '/'");
    }
    if (this.environment(projectId, input.name)) throw new GitLabError(400, 'Name has already been taken');
    if (input.tier !== undefined && !ENVIRONMENT_TIERS.includes(input.tier)) throw new GitLabError(400, 'tier does not have a valid value');
    const at = this.iso();
    const environment: StoredEnvironment = {
      id: this.id(),
      projectId,
      name: input.name,
      tier: input.tier ?? guessEnvironmentTier(input.name),
      externalUrl: input.externalUrl ?? null,
      createdAt: at,
      updatedAt: at,
    };
    this.environments.push(environment);
    return environment;
  }

  editEnvironment(projectId: number, environmentId: number, input: { tier?: string; externalUrl?: string }): StoredEnvironment {
    const environment = this.environments.find((e) => e.id === environmentId && e.projectId === projectId);
    if (!environment) throw new GitLabError(404, '404 Environment Not Found');
    if (input.tier !== undefined && !ENVIRONMENT_TIERS.includes(input.tier)) throw new GitLabError(400, 'tier does not have a valid value');
    if (input.tier !== undefined) environment.tier = input.tier;
    if (input.externalUrl !== undefined) environment.externalUrl = input.externalUrl;
    environment.updatedAt = this.iso();
    return environment;
  }

  updateDeployment(projectId: number, deploymentId: number, status: string): StoredDeployment {
    const deployment = this.deployments.find((d) => d.id === deploymentId && d.projectId === projectId);
    if (!deployment) throw new GitLabError(404, '404 Deployment Not Found');
    if (!['running', 'success', 'failed', 'canceled'].includes(status)) {
      throw new GitLabError(400, 'status does not have a valid value');
    }
    if (!['created', 'running'].includes(deployment.status) && deployment.status !== status) {
      throw new GitLabError(400, `Cannot transition status via :${status} from :${deployment.status}`);
    }
    deployment.status = status as StoredDeployment['status'];
    deployment.updatedAt = this.iso();
    return deployment;
  }
}
