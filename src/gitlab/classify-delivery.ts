// Decides, from a parsed webhook body alone (no I/O), whether a GitLab delivery is for us: what to
// enqueue, or why it is ignored, or why it is invalid. The route does the I/O around it.

import type { Definition } from '../core/definition.js';
import type { IntakeJob, NoteIntake, PipelineIntake, ProjectRef } from './intake-job.js';
import { HOOK_SCHEMAS, isHookKind, type NoteHook, type PipelineHook } from './schema.js';
import { watchesProject } from './watches-project.js';

export interface ClassifyContext {
  definitions: readonly Definition[];
  /** The bot's own GitLab username: its notes are never commands. */
  botUsername: string;
}

export type Classification =
  | { outcome: 'invalid'; event: string; message: string }
  | { outcome: 'ignored'; event: string; reason: string }
  /** `contentKey` identifies the event itself, for deduplication when the delivery has no id. */
  | { outcome: 'accepted'; event: string; job: IntakeJob; contentKey: string };

const COMMAND_PREFIX = /^\/canary(?:\s|$)/i;
const FIRST_LINE_MAX = 1000;

export function classifyDelivery(body: unknown, context: ClassifyContext): Classification {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { outcome: 'invalid', event: 'unknown', message: 'payload is not a JSON object' };
  }
  const kind = (body as Record<string, unknown>).object_kind;
  if (typeof kind !== 'string') return { outcome: 'invalid', event: 'unknown', message: 'payload has no object_kind' };
  if (!isHookKind(kind)) return { outcome: 'ignored', event: 'other', reason: `unsupported event kind: ${kind.slice(0, 64)}` };

  const parsed = HOOK_SCHEMAS[kind].safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    return { outcome: 'invalid', event: kind, message: `invalid ${kind} hook: ${where}: ${issue?.message ?? 'invalid'}` };
  }
  switch (kind) {
    case 'pipeline':
      return classifyPipeline(parsed.data as PipelineHook, context);
    case 'note':
      return classifyNote(parsed.data as NoteHook, context);
    case 'merge_request':
      return { outcome: 'ignored', event: kind, reason: 'merge request events need no action' };
  }
}

function projectRef(project: { id: number; path_with_namespace: string }): ProjectRef {
  return { id: project.id, path: project.path_with_namespace };
}

function classifyPipeline(hook: PipelineHook, context: ClassifyContext): Classification {
  const event = 'pipeline';
  const project = projectRef(hook.project);
  const attributes = hook.object_attributes;
  const watching = context.definitions.filter((d) => watchesProject(d, project));
  if (watching.length === 0) return { outcome: 'ignored', event, reason: `project ${project.path} is not watched` };
  if (attributes.tag) return { outcome: 'ignored', event, reason: `tag pipelines are not watched (${attributes.ref})` };
  if (!watching.some((d) => d.trigger.branch === attributes.ref)) {
    return { outcome: 'ignored', event, reason: `branch ${attributes.ref} is not watched in ${project.path}` };
  }
  if (attributes.status !== 'success') {
    return { outcome: 'ignored', event, reason: `pipeline status is ${attributes.status}, not success` };
  }

  const variables: Record<string, string> = {};
  for (const variable of attributes.variables ?? []) variables[variable.key] = variable.value;
  const mr = hook.merge_request;
  const job: PipelineIntake = {
    kind: 'pipeline',
    project,
    pipeline: { id: attributes.id, ...(attributes.url ? { url: attributes.url } : {}) },
    sha: attributes.sha,
    ref: attributes.ref,
    variables,
    mr: mr
      ? {
          projectId: mr.target_project_id ?? project.id,
          iid: mr.iid,
          ...(mr.url ? { url: mr.url } : {}),
          ...(mr.title !== undefined ? { title: mr.title } : {}),
        }
      : null,
    user: hook.user ? { id: hook.user.id, username: hook.user.username } : null,
  };
  return { outcome: 'accepted', event, job, contentKey: `pipeline:${project.id}:${attributes.id}` };
}

function classifyNote(hook: NoteHook, context: ClassifyContext): Classification {
  const event = 'note';
  const project = projectRef(hook.project);
  const attributes = hook.object_attributes;
  if (attributes.noteable_type !== 'MergeRequest' || !hook.merge_request) {
    return { outcome: 'ignored', event, reason: `notes on ${attributes.noteable_type.slice(0, 64) || 'this'} are not commands` };
  }
  if (attributes.action === 'update') return { outcome: 'ignored', event, reason: 'edited notes are not re-run' };
  if (attributes.system) return { outcome: 'ignored', event, reason: 'system notes are not commands' };
  if (hook.user.username.toLowerCase() === context.botUsername.toLowerCase()) {
    return { outcome: 'ignored', event, reason: "the bot's own note" };
  }
  const firstLine = (attributes.note.split(/\r?\n/, 1)[0] ?? '').trim();
  if (!COMMAND_PREFIX.test(firstLine)) return { outcome: 'ignored', event, reason: 'not a /canary command' };
  if (!context.definitions.some((d) => watchesProject(d, project))) {
    return { outcome: 'ignored', event, reason: `project ${project.path} is not watched` };
  }

  const mr = hook.merge_request;
  const job: NoteIntake = {
    kind: 'note',
    project,
    note: {
      id: attributes.id,
      firstLine: firstLine.slice(0, FIRST_LINE_MAX),
      ...(attributes.discussion_id ? { discussionId: attributes.discussion_id } : {}),
      ...(attributes.url ? { url: attributes.url } : {}),
      ...optionalCreatedAt(gitlabTime(attributes.created_at)),
    },
    mr: {
      projectId: mr.target_project_id ?? project.id,
      iid: mr.iid,
      ...(mr.author_id !== undefined ? { authorId: mr.author_id } : {}),
    },
    author: { id: hook.user.id, username: hook.user.username },
  };
  return { outcome: 'accepted', event, job, contentKey: `note:${project.id}:${attributes.id}` };
}

function optionalCreatedAt(at: number | null): { createdAt?: number } {
  return at === null ? {} : { createdAt: at };
}

/** GitLab's hook times: `2015-05-17 18:21:36 UTC` or ISO 8601; null when absent or unreadable. */
export function gitlabTime(text: string | null | undefined): number | null {
  if (!text) return null;
  const iso = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? UTC$/.test(text) ? `${text.slice(0, -4).replace(' ', 'T')}Z` : text;
  const at = Date.parse(iso);
  return Number.isFinite(at) ? at : null;
}
