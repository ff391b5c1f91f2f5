// One commit from pin edits of one or several services (a release, or a train's members sharing a
// config repository): the edits are grouped by file, applied in order with the byte-preserving
// editor, and each changed file becomes one action with the last_commit_id it was read at. Pure.

import type { GitOpsPin } from '../core/gitops-spec.js';
import type { FileChange, RepositoryFile } from './config-repository.js';
import { readPin, writePin } from './edit-pin.js';

export interface PinEdit {
  /** The service the edit is for (several services may share a file). */
  service: string;
  path: string;
  pin: GitOpsPin;
  value: string;
}

export interface PlannedCommit {
  changes: FileChange[];
  /** Edits whose file already held the value. */
  unchanged: PinEdit[];
}

/** The file changes that put every edit's value in place; files that need nothing are left out. */
export function planCommit(files: ReadonlyMap<string, RepositoryFile>, edits: readonly PinEdit[]): PlannedCommit {
  const contents = new Map<string, string>();
  const unchanged: PinEdit[] = [];
  for (const edit of edits) {
    const file = files.get(edit.path);
    if (!file) throw new Error(`planCommit: ${edit.path} was not read`);
    const before = contents.get(edit.path) ?? file.content;
    if (readPin(before, edit.pin, edit.path) === edit.value) {
      unchanged.push(edit);
      continue;
    }
    contents.set(edit.path, writePin(before, edit.pin, edit.value, edit.path));
  }
  const changes = [...contents.entries()]
    .filter(([path, content]) => content !== files.get(path)!.content)
    .map(([path, content]) => ({ path, content, lastCommitId: files.get(path)!.lastCommitId }));
  return { changes, unchanged };
}

export function commitMessage(options: { title: string; mergeRequest: string | null; releaseIds: readonly string[] }): string {
  const body = options.mergeRequest ? `\n\nMerge request: ${options.mergeRequest}` : '';
  return `${options.title}${body}\n\n${options.releaseIds.map((id) => `Canarybot-Release: ${id}`).join('\n')}\n`;
}

/** A release train's commit: every member's MR in the body, the train's trailer and each member's release trailer. */
export function trainCommitMessage(options: { title: string; mergeRequests: readonly string[]; trainRunId: string; releaseIds: readonly string[] }): string {
  const body = options.mergeRequests.length > 0 ? `\n\nMerge requests:\n${options.mergeRequests.map((mr) => `- ${mr}`).join('\n')}` : '';
  return `${options.title}${body}\n\nCanarybot-Train: ${options.trainRunId}\n${options.releaseIds.map((id) => `Canarybot-Release: ${id}`).join('\n')}\n`;
}
