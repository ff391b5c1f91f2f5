// The webhook deliveries GitLab would send during the demo, in GitLab's documented shapes: a
// successful pipeline on `main` for a merged MR, and a Note Hook for a comment on that MR.

import type { SeedProject, SeedUser } from '../sim/gitlab-api-store.js';

const WEB = 'http://gitlab.demo';

export interface PipelineHookInput {
  project: SeedProject;
  pipelineId: number;
  sha: string;
  mr: { iid: number; title: string };
  user: SeedUser;
}

export function pipelineHook(input: PipelineHookInput): Record<string, unknown> {
  const projectUrl = `${WEB}/${input.project.path}`;
  return {
    object_kind: 'pipeline',
    object_attributes: {
      id: input.pipelineId,
      iid: input.pipelineId,
      ref: input.project.defaultBranch ?? 'main',
      tag: false,
      sha: input.sha,
      before_sha: '0000000000000000000000000000000000000000',
      source: 'push',
      status: 'success',
      detailed_status: 'passed',
      stages: ['build', 'push'],
      url: `${projectUrl}/-/pipelines/${input.pipelineId}`,
      variables: [],
    },
    merge_request: {
      id: 1000 + input.mr.iid,
      iid: input.mr.iid,
      title: input.mr.title,
      target_branch: input.project.defaultBranch ?? 'main',
      target_project_id: input.project.id,
      state: 'merged',
      url: `${projectUrl}/-/merge_requests/${input.mr.iid}`,
    },
    user: { id: input.user.id, name: input.user.name ?? input.user.username, username: input.user.username },
    project: { id: input.project.id, name: input.project.path.split('/').pop(), path_with_namespace: input.project.path, web_url: projectUrl },
    builds: [],
  };
}

export interface NoteHookInput {
  project: SeedProject;
  mr: { iid: number; authorId: number };
  note: { id: number; body: string; discussionId: string };
  user: SeedUser;
}

export function noteHook(input: NoteHookInput): Record<string, unknown> {
  const projectUrl = `${WEB}/${input.project.path}`;
  return {
    object_kind: 'note',
    event_type: 'note',
    user: { id: input.user.id, name: input.user.name ?? input.user.username, username: input.user.username },
    project_id: input.project.id,
    project: { id: input.project.id, name: input.project.path.split('/').pop(), path_with_namespace: input.project.path, web_url: projectUrl },
    object_attributes: {
      id: input.note.id,
      note: input.note.body,
      noteable_type: 'MergeRequest',
      author_id: input.user.id,
      project_id: input.project.id,
      action: 'create',
      system: false,
      discussion_id: input.note.discussionId,
      url: `${projectUrl}/-/merge_requests/${input.mr.iid}#note_${input.note.id}`,
    },
    merge_request: { iid: input.mr.iid, author_id: input.mr.authorId, target_project_id: input.project.id, state: 'merged' },
  };
}
