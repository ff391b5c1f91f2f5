// Git repositories of the GitLab API test server: commits as whole snapshots (path → content) with
// parents, branches as refs, a file's last_commit_id found by walking the first-parent history, and
// the Commits API's checks as GitLab answers them (Files::MultiService and Gitaly's UserCommitFiles):
// a stale `last_commit_id` is "You are attempting to update a file that has changed since you started
// editing it.", a branch that moved between GitLab's read and its ref update is "incorrect old value
// provided". Both are 400. Merges: a merge commit with two parents, a conflict when both sides changed
// the same file differently.

import { createHash } from 'node:crypto';

export interface StoredCommit {
  id: string;
  parentIds: string[];
  message: string;
  authorName: string;
  authorEmail: string;
  createdAt: string;
  files: Map<string, string>;
}

export interface CommitAction {
  action: 'create' | 'update' | 'delete' | 'move' | 'chmod';
  filePath: string;
  previousPath?: string;
  content?: string;
  encoding?: 'text' | 'base64';
  lastCommitId?: string;
}

export class RepositoryError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** When a concurrent writer runs during a commit: before GitLab checks the actions, or after the check and before the ref update. */
export type InterleaveAt = 'before-check' | 'before-ref-update';

export class Repository {
  readonly commits = new Map<string, StoredCommit>();
  readonly branches = new Map<string, string>();
  private readonly interleaved: { at: InterleaveAt; run: () => void }[] = [];
  private counter = 0;

  constructor(
    readonly projectPath: string,
    private readonly now: () => number,
    defaultBranch: string,
    files: Record<string, string>,
  ) {
    const root = this.store([], 'Initial commit', 'Administrator', new Map(Object.entries(files)));
    this.branches.set(defaultBranch, root.id);
  }

  private store(parentIds: string[], message: string, authorName: string, files: Map<string, string>, authorEmail = `${authorName.toLowerCase().replace(/\W+/g, '.')}@example.com`): StoredCommit {
    this.counter += 1;
    const hash = createHash('sha1').update(`${this.projectPath}\0${this.counter}\0${parentIds.join(',')}\0${message}`).digest('hex');
    const commit: StoredCommit = { id: hash, parentIds, message, authorName, authorEmail, createdAt: new Date(this.now()).toISOString(), files };
    this.commits.set(hash, commit);
    return commit;
  }

  /** A commit by sha (full or a prefix of at least 7), branch name, or null. */
  resolve(ref: string): StoredCommit | null {
    const branch = this.branches.get(ref);
    if (branch) return this.commits.get(branch) ?? null;
    if (/^[0-9a-f]{7,40}$/.test(ref)) {
      for (const commit of this.commits.values()) if (commit.id.startsWith(ref)) return commit;
    }
    return null;
  }

  mustResolve(ref: string): StoredCommit {
    const commit = this.resolve(ref);
    if (!commit) throw new RepositoryError(404, '404 Commit Not Found');
    return commit;
  }

  /** The newest commit reachable from `ref` by first parents that changed `path` (GitLab's last_commit_id). */
  lastCommitId(ref: string, path: string): string {
    let commit = this.mustResolve(ref);
    const content = commit.files.get(path);
    for (;;) {
      const parent = commit.parentIds.map((id) => this.commits.get(id)).find((candidate) => candidate !== undefined);
      if (!parent || parent.files.get(path) !== content) return commit.id;
      commit = parent;
    }
  }

  /** Runs `run` once, the next time a commit reaches `at`: a concurrent commit between read and write. */
  interleave(at: InterleaveAt, run: () => void): void {
    this.interleaved.push({ at, run });
  }

  private runInterleaved(at: InterleaveAt): void {
    const index = this.interleaved.findIndex((entry) => entry.at === at);
    if (index < 0) return;
    const [entry] = this.interleaved.splice(index, 1);
    entry!.run();
  }

  /** POST /projects/:id/repository/commits. */
  commit(request: { branch: string; message: string; actions: CommitAction[]; startBranch?: string; startSha?: string; authorName?: string; authorEmail?: string }): StoredCommit {
    const { branch } = request;
    this.runInterleaved('before-check');
    let head = this.branches.get(branch);
    if (head === undefined) {
      const start = request.startSha ?? (request.startBranch !== undefined ? this.branches.get(request.startBranch) : undefined);
      if (start === undefined) throw new RepositoryError(400, 'You can only create or edit files when you are on a branch');
      head = this.mustResolve(start).id;
    }
    const base = this.mustResolve(head);
    const files = new Map(base.files);
    for (const action of request.actions) this.apply(files, action, head);
    this.runInterleaved('before-ref-update');
    // Gitaly updates the ref with the old value it read: a branch that moved meanwhile is refused.
    const current = this.branches.get(branch);
    if (current !== undefined && current !== head) {
      throw new RepositoryError(400, `Could not update refs/heads/${branch}. Please refresh and try again.: reference update: incorrect old value provided`);
    }
    const commit = this.store([head], request.message, request.authorName ?? 'canarybot', files, request.authorEmail);
    this.branches.set(branch, commit.id);
    return commit;
  }

  private apply(files: Map<string, string>, action: CommitAction, head: string): void {
    const path = action.filePath;
    const exists = files.has(path);
    const content = action.encoding === 'base64' ? Buffer.from(action.content ?? '', 'base64').toString('utf8') : (action.content ?? '');
    const checkUnchanged = (file: string, verb: string): void => {
      if (action.lastCommitId !== undefined && action.lastCommitId !== this.lastCommitId(head, file)) {
        throw new RepositoryError(400, `You are attempting to ${verb} a file that has changed since you started editing it.`);
      }
    };
    switch (action.action) {
      case 'create':
        if (exists) throw new RepositoryError(400, 'A file with this name already exists');
        files.set(path, content);
        return;
      case 'update':
        if (!exists) throw new RepositoryError(400, "A file with this name doesn't exist");
        checkUnchanged(path, 'update');
        files.set(path, content);
        return;
      case 'delete':
        if (!exists) throw new RepositoryError(400, "A file with this name doesn't exist");
        checkUnchanged(path, 'delete');
        files.delete(path);
        return;
      case 'move': {
        const from = action.previousPath ?? '';
        if (!files.has(from)) throw new RepositoryError(400, "A file with this name doesn't exist");
        checkUnchanged(from, 'move');
        const moved = action.content === undefined ? (files.get(from) as string) : content;
        files.delete(from);
        files.set(path, moved);
        return;
      }
      case 'chmod':
        if (!exists) throw new RepositoryError(400, "A file with this name doesn't exist");
        return;
      default:
        throw new RepositoryError(400, 'actions[0][action] does not have a valid value');
    }
  }

  createBranch(name: string, ref: string): void {
    if (this.branches.has(name)) throw new RepositoryError(400, 'Branch already exists');
    this.branches.set(name, this.mustResolve(ref).id);
  }

  deleteBranch(name: string): void {
    if (!this.branches.delete(name)) throw new RepositoryError(404, '404 Branch Not Found');
  }

  private ancestors(id: string): Set<string> {
    const seen = new Set<string>();
    const queue = [id];
    while (queue.length > 0) {
      const next = queue.pop() as string;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...(this.commits.get(next)?.parentIds ?? []));
    }
    return seen;
  }

  /** The merge of `source` into `target` as GitLab's merge method `merge` does; null when both changed a file differently. */
  merge(source: string, target: string, message: string, authorName: string): StoredCommit | null {
    const sourceHead = this.mustResolve(source);
    const targetHead = this.mustResolve(target);
    const targetAncestors = this.ancestors(targetHead.id);
    if (targetAncestors.has(sourceHead.id)) return targetHead;
    // The merge base: the first commit reachable from the source (breadth first) that the target also reaches.
    let baseId: string | undefined;
    const queue = [sourceHead.id];
    const seen = new Set<string>();
    while (queue.length > 0 && baseId === undefined) {
      const next = queue.shift() as string;
      if (seen.has(next)) continue;
      seen.add(next);
      if (targetAncestors.has(next)) baseId = next;
      else queue.push(...(this.commits.get(next)?.parentIds ?? []));
    }
    const base = baseId ? this.commits.get(baseId)!.files : new Map<string, string>();
    const merged = new Map(targetHead.files);
    const paths = new Set([...base.keys(), ...sourceHead.files.keys(), ...targetHead.files.keys()]);
    for (const path of paths) {
      const [b, s, t] = [base.get(path), sourceHead.files.get(path), targetHead.files.get(path)];
      if (s === b) continue;
      if (t !== b && t !== s) return null;
      if (s === undefined) merged.delete(path);
      else merged.set(path, s);
    }
    const commit = this.store([targetHead.id, sourceHead.id], message, authorName, merged);
    this.branches.set(target, commit.id);
    return commit;
  }
}
