// The Reporter port over GitLab. report() only stores the desired state of the release (version-
// guarded, so an older record never overwrites a newer one) and schedules a sync; the sync, run by
// the write-back outbox, brings GitLab in line with the newest desired state: commit status (each
// state posted once), the environment's tier when one is decided (once per release and environment),
// deployment per environment, and the one progress note, edited in place.

import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/connect-redis.js';
import type { Logger } from 'pino';
import { CanarybotError } from '../core/errors.js';
import type { ReleaseEventKind } from '../core/effect.js';
import type { Reporter } from '../core/ports.js';
import type { Release } from '../core/release.js';
import type { GitLabApi } from './gitlab-api.js';
import { progressNoteMarker, type ProgressNoteLinks } from './render-progress-note.js';
import { desiredWriteback, type DesiredWriteback } from './writeback-state.js';
import type { SyncOutcome, SyncTools } from './writeback-outbox.js';

export interface GitLabReporterOptions {
  api: GitLabApi;
  redis: RedisClient;
  prefix: string;
  schedule: (id: string) => Promise<void>;
  links?: ProgressNoteLinks;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  /** Upper bound on how long report() may wait for Redis (default 1 s). */
  reportTimeoutMs?: number;
  /** How long write-back state is kept after the last report (default 30 days). */
  stateTtlMs?: number;
}

export const STORE = `
local v = redis.call('HGET', KEYS[1], 'version')
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'desired', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

interface DeploymentWritten {
  id: number;
  status: string;
}

/** A write step's result: carry on, or stop this sync with an outcome. */
type Step = null | SyncOutcome;

export const RELEASE_SYNC_PREFIX = 'rel:';

export class GitLabReporter implements Reporter {
  private botUserId: number | null = null;

  constructor(private readonly o: GitLabReporterOptions) {}

  private key(releaseId: string): string {
    return `${this.o.prefix}:wb:release:${releaseId}`;
  }

  async report(release: Release, event: ReleaseEventKind): Promise<void> {
    try {
      const desired = desiredWriteback(release, this.o.links ?? {});
      const work = (async () => {
        await this.o.redis.eval(
          STORE,
          1,
          this.key(release.id),
          String(release.version),
          JSON.stringify(desired),
          String(this.o.stateTtlMs ?? 30 * 86_400_000),
        );
        await this.o.schedule(`${RELEASE_SYNC_PREFIX}${release.id}`);
      })();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.o.reportTimeoutMs ?? 1000);
      });
      const result = await Promise.race([work.then(() => 'ok' as const), timeout]).finally(() => clearTimeout(timer));
      if (result === 'timeout') this.o.logger?.warn({ releaseId: release.id, event }, 'gitlab write-back not stored in time');
      work.catch((error: unknown) => this.o.logger?.warn({ releaseId: release.id, event, err: error }, 'gitlab write-back not stored'));
    } catch (error) {
      this.o.logger?.warn({ releaseId: release.id, event, err: error }, 'gitlab write-back not stored');
    }
  }

  /** Bring GitLab in line with the newest desired state of one release. */
  async sync(releaseId: string, tools: SyncTools): Promise<SyncOutcome> {
    const key = this.key(releaseId);
    const fields = await this.o.redis.hgetall(key);
    if (!fields.desired) return { kind: 'done' };
    const desired = JSON.parse(fields.desired) as DesiredWriteback;
    const steps: (() => Promise<Step>)[] = [
      () => this.syncStatus(key, desired, fields.status, tools),
      () => this.syncEnvironment(key, desired, fields.environment, tools),
      () => this.syncDeployment(key, desired, fields.deployments, tools),
      () => this.syncNote(key, desired, fields, tools),
      () => this.syncApprovalRequest(key, desired, fields.approvalRequested, tools),
    ];
    for (const step of steps) {
      const outcome = await step();
      if (outcome) return outcome;
    }
    return { kind: 'done' };
  }

  /** Run one GitLab write: budget first; an outage stops the sync, a refusal is logged and given up. */
  private async write(tools: SyncTools, what: string, releaseId: string, run: () => Promise<void>): Promise<Step> {
    const wait = await tools.takeWrite();
    if (wait > 0) return { kind: 'wait', ms: wait };
    try {
      await run();
      return null;
    } catch (error) {
      if (error instanceof CanarybotError && error.code === 'GITLAB_REFUSED') {
        this.o.logger?.warn({ releaseId, what, err: error.message }, 'gitlab refused a write-back');
        return null;
      }
      this.o.logger?.debug({ releaseId, what, err: error instanceof Error ? error.message : String(error) }, 'gitlab write-back failed');
      return { kind: 'transient' };
    }
  }

  private async syncStatus(key: string, desired: DesiredWriteback, posted: string | undefined, tools: SyncTools): Promise<Step> {
    const { state } = desired.status;
    if (posted === state) return null;
    if (posted === undefined) {
      // Nothing recorded here (first sync, or state lost): ask GitLab so a state is never posted twice.
      try {
        const current = (await this.o.api.commitStatuses(desired.project, desired.sha)).filter((s) => s.name === desired.status.name).at(-1);
        if (current?.state === state) {
          await this.o.redis.hset(key, 'status', state);
          return null;
        }
      } catch (error) {
        if (!(error instanceof CanarybotError && error.code === 'GITLAB_REFUSED')) return { kind: 'transient' };
      }
    }
    // A refusal (e.g. GitLab already holds a state we did not record) counts as posted: never retried.
    const step = await this.write(tools, 'commit status', desired.releaseId, async () => {
      await this.o.api.setCommitStatus(desired.project, desired.sha, { ...desired.status, ref: desired.ref });
    });
    if (step) return step;
    await this.o.redis.hset(key, 'status', state);
    return null;
  }

  /**
   * With a decided tier, make the environment exist with it before the first deployment goes there
   * (GitLab would create it itself, guessing the tier from the name). Without one: no call at all.
   */
  private async syncEnvironment(key: string, desired: DesiredWriteback, ensured: string | undefined, tools: SyncTools): Promise<Step> {
    const { environment: name, tier } = desired.deployment;
    const mark = `${tier} ${name}`;
    if (!tier || ensured === mark) return null;
    const done = async (): Promise<null> => {
      await this.o.redis.hset(key, 'environment', mark);
      return null;
    };
    let found;
    try {
      found = await this.o.api.findEnvironment(desired.project, name);
    } catch (error) {
      if (!(error instanceof CanarybotError && error.code === 'GITLAB_REFUSED')) return { kind: 'transient' };
      this.o.logger?.warn({ releaseId: desired.releaseId, environment: name, err: error.message }, 'gitlab refused reading the environment');
      return done();
    }
    if (found?.tier === tier) return done();
    const step = await this.write(tools, 'environment tier', desired.releaseId, async () => {
      if (found) await this.o.api.setEnvironmentTier(desired.project, found.id, tier);
      else await this.o.api.createEnvironment(desired.project, { name, tier });
    });
    return step ?? done();
  }

  private async syncDeployment(key: string, desired: DesiredWriteback, raw: string | undefined, tools: SyncTools): Promise<Step> {
    const written = (raw ? JSON.parse(raw) : {}) as Record<string, DeploymentWritten>;
    const save = () => this.o.redis.hset(key, 'deployments', JSON.stringify(written));
    // A release that moved on to its next cluster has finished the previous one.
    for (const [environment, d] of Object.entries(written)) {
      if (environment === desired.deployment.environment || d.status !== 'running' || d.id < 0) continue;
      const step = await this.write(tools, 'deployment', desired.releaseId, async () => {
        await this.o.api.updateDeployment(desired.project, d.id, 'success');
      });
      if (step) return step;
      d.status = 'success';
      await save();
    }
    const { environment, status } = desired.deployment;
    const current = written[environment];
    if (current?.status === status) return null;
    if (current && current.id < 0) {
      // Its creation was refused: nothing to update.
      current.status = status;
      await save();
      return null;
    }
    let refused = true;
    const step = await this.write(tools, 'deployment', desired.releaseId, async () => {
      if (current) await this.o.api.updateDeployment(desired.project, current.id, status);
      else {
        const created = await this.o.api.createDeployment(desired.project, { environment, sha: desired.sha, ref: desired.ref, status });
        written[environment] = { id: created.id, status };
      }
      refused = false;
    });
    if (step) return step;
    if (current) current.status = status;
    else if (refused) written[environment] = { id: -1, status };
    await save();
    return null;
  }

  private async syncApprovalRequest(key: string, desired: DesiredWriteback, posted: string | undefined, tools: SyncTools): Promise<Step> {
    const request = desired.approvalRequest;
    if (!request || !desired.mr || posted === request.key) return null;
    const mr = desired.mr;
    const step = await this.write(tools, 'approval request', desired.releaseId, async () => {
      await this.o.api.createNote(mr.projectId, mr.iid, request.body);
    });
    if (step) return step;
    await this.o.redis.hset(key, 'approvalRequested', request.key);
    return null;
  }

  private async botId(): Promise<number> {
    this.botUserId ??= (await this.o.api.currentUser()).id;
    return this.botUserId;
  }

  /** The note carrying the release's marker, written by the bot (others could copy the marker). */
  private async findNote(desired: DesiredWriteback): Promise<number | null> {
    if (!desired.mr) return null;
    const marker = progressNoteMarker(desired.releaseId);
    const bot = await this.botId();
    const notes = await this.o.api.listNotes(desired.mr.projectId, desired.mr.iid);
    return notes.find((n) => n.author.id === bot && !n.system && n.body.startsWith(marker))?.id ?? null;
  }

  private async syncNote(key: string, desired: DesiredWriteback, fields: Record<string, string>, tools: SyncTools): Promise<Step> {
    const mr = desired.mr;
    if (!mr || desired.note === null) return null;
    const body = desired.note;
    const hash = createHash('sha256').update(body).digest('hex');
    if (fields.noteHash === hash) return null;
    let noteId: number | null = fields.noteId ? Number(fields.noteId) : null;
    try {
      noteId ??= await this.findNote(desired);
    } catch (error) {
      if (error instanceof CanarybotError && error.code === 'GITLAB_REFUSED') {
        this.o.logger?.warn({ releaseId: desired.releaseId, err: error.message }, 'gitlab refused reading the MR notes');
        await this.o.redis.hset(key, 'noteHash', hash);
        return null;
      }
      return { kind: 'transient' };
    }
    let written: number | null = null;
    let editRefused = false;
    const step = await this.write(tools, 'progress note', desired.releaseId, async () => {
      if (noteId !== null) {
        try {
          written = (await this.o.api.editNote(mr.projectId, mr.iid, noteId, body)).id;
        } catch (error) {
          if (!(error instanceof CanarybotError && error.code === 'GITLAB_REFUSED')) throw error;
          // The note is gone (deleted by a human) or not ours: write a fresh one next time.
          editRefused = true;
        }
      } else {
        written = (await this.o.api.createNote(mr.projectId, mr.iid, body)).id;
      }
    });
    if (step) return step;
    if (editRefused) {
      await this.o.redis.hdel(key, 'noteId');
      const again = await this.write(tools, 'progress note', desired.releaseId, async () => {
        written = (await this.o.api.createNote(mr.projectId, mr.iid, body)).id;
      });
      if (again) return again;
    }
    if (written !== null) await this.o.redis.hset(key, 'noteId', String(written), 'noteHash', hash);
    else await this.o.redis.hset(key, 'noteHash', hash);
    return null;
  }
}
