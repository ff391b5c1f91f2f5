// zod schemas of the GitLab webhook payloads canarybot reads: only the fields used, permissive about
// everything else (GitLab adds fields over time; an unknown field must never make us refuse a hook).
// Unknown fields are dropped rather than copied: nothing past this file reads them, and copying a
// whole payload per delivery is measurable on the webhook path (bench/webhooks).

import { z } from 'zod';

const id = z.number().int().nonnegative();
const sha = z.string().regex(/^[0-9a-f]{7,64}$/i, 'not a commit sha');
const shortText = z.string().max(1024);

const project = z.object({
  id,
  path_with_namespace: z.string().min(1).max(512),
  web_url: shortText.optional(),
});

const user = z.object({
  id,
  username: z.string().min(1).max(255),
});

export const pipelineHookSchema = z.object({
  object_kind: z.literal('pipeline'),
  object_attributes: z.object({
    id,
    ref: z.string().min(1).max(1024),
    tag: z.boolean().optional(),
    sha,
    status: z.string().max(64),
    source: z.string().max(64).optional(),
    url: shortText.nullish(),
    variables: z.array(z.object({ key: z.string().max(255), value: z.string().max(10_000) })).nullish(),
  }),
  merge_request: z
    .object({
      iid: id,
      target_project_id: id.optional(),
      title: shortText.optional(),
      url: shortText.nullish(),
    })
    .nullish(),
  user: user.nullish(),
  project,
});
export type PipelineHook = z.infer<typeof pipelineHookSchema>;

export const mergeRequestHookSchema = z.object({
  object_kind: z.literal('merge_request'),
  user: user.nullish(),
  project,
  object_attributes: z.object({
    iid: id,
    action: z.string().max(64).optional(),
    state: z.string().max(64).optional(),
  }),
});
export type MergeRequestHook = z.infer<typeof mergeRequestHookSchema>;

export const noteHookSchema = z.object({
  object_kind: z.literal('note'),
  user,
  project,
  object_attributes: z.object({
    id,
    note: z.string(),
    noteable_type: z.string().max(64),
    action: z.string().max(64).optional(),
    system: z.boolean().optional(),
    discussion_id: z.string().max(255).nullish(),
    url: shortText.nullish(),
    /** `2015-05-17 18:21:36 UTC` (older GitLab) or ISO 8601; an approval binds to it. */
    created_at: z.string().max(64).nullish(),
  }),
  merge_request: z
    .object({
      iid: id,
      author_id: id.optional(),
      target_project_id: id.optional(),
    })
    .nullish(),
});
export type NoteHook = z.infer<typeof noteHookSchema>;

/** Hooks we read, by `object_kind`; any other kind is not for us. */
export const HOOK_SCHEMAS = {
  pipeline: pipelineHookSchema,
  merge_request: mergeRequestHookSchema,
  note: noteHookSchema,
} as const;
export type HookKind = keyof typeof HOOK_SCHEMAS;

export function isHookKind(kind: string): kind is HookKind {
  return Object.hasOwn(HOOK_SCHEMAS, kind);
}
