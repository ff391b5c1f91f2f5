// What the webhook route enqueues for the intake worker: GitLab's hook payloads translated into
// small neutral shapes, holding only what the worker needs (a 1 MiB payload never reaches Redis).

export interface ProjectRef {
  id: number;
  /** `group/name` */
  path: string;
}

export interface PipelineIntake {
  kind: 'pipeline';
  project: ProjectRef;
  pipeline: { id: number; url?: string };
  sha: string;
  ref: string;
  /** Pipeline variables by key (for `trigger.tag: variable:<NAME>`). */
  variables: Record<string, string>;
  /** The payload's merge request, when the pipeline ran for one. */
  mr: { projectId: number; iid: number; url?: string; title?: string } | null;
  user: { id: number; username: string } | null;
}

export interface NoteIntake {
  kind: 'note';
  project: ProjectRef;
  /** `createdAt`: when the comment was written (epoch ms), from the hook's `created_at`. */
  note: { id: number; discussionId?: string; url?: string; firstLine: string; createdAt?: number };
  mr: { projectId: number; iid: number; authorId?: number };
  author: { id: number; username: string };
}

export type IntakeJob = PipelineIntake | NoteIntake;
