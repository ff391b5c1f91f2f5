// The GitOps part of the progress note (spec.gitops): the commit (short sha linked to GitLab) or the
// merge request, every pinned file with its old → new value, the revert when there was one, the
// controller's state while it is awaited, and any drift warning or refused revert.

import { isLive, type Release } from '../core/release.js';

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function commitLink(commit: { sha: string; url: string }): string {
  return `[${code(commit.sha.slice(0, 8))}](${commit.url})`;
}

export function renderGitOpsSection(release: Release): string | null {
  const g = release.gitops;
  const spec = release.definition.gitops;
  if (!g || !spec) return null;
  const where = `${code(String(g.repository))}${g.branch ? ` @ ${code(g.branch)}` : ''}`;
  const lines: string[] = [];
  if (g.commit) lines.push(`**GitOps:** ${where} · commit ${commitLink(g.commit)}${g.mergeRequest ? ` via [!${g.mergeRequest.iid}](${g.mergeRequest.url})` : ''}`);
  else if (g.mergeRequest && g.mergeRequestClosed) lines.push(`**GitOps:** ${where} · merge request [!${g.mergeRequest.iid}](${g.mergeRequest.url}) closed (the release rolled back)`);
  else if (g.mergeRequest) lines.push(`**GitOps:** ${where} · merge request [!${g.mergeRequest.iid}](${g.mergeRequest.url}) (not merged yet)`);
  else if (isLive(release.state)) lines.push(`**GitOps:** ${where} · nothing written yet`);
  else lines.push(`**GitOps:** ${where} · nothing written: the release ended before promotion`);
  const untouched = !g.commit && (!g.mergeRequest || g.mergeRequestClosed === true) && !isLive(release.state);
  for (const pin of g.pins) lines.push(untouched ? `- ${code(pin.path)} ${pin.where}: stays ${code(pin.before)}` : `- ${code(pin.path)} ${pin.where}: ${code(pin.before)} → ${code(pin.after)}`);
  if (g.revert) lines.push(`- rolled back in Git by ${commitLink(g.revert)}`);
  if (spec.sync && g.commit) {
    const name = spec.sync.controller === 'argocd' ? `Argo CD ${spec.sync.namespace}/${spec.sync.application}` : `Flux ${spec.sync.kind} ${spec.sync.namespace}/${spec.sync.name}`;
    lines.push(`- sync: ${name} — ${g.sync ?? 'asked to refresh'}`);
  }
  for (const warning of g.warnings) lines.push(`- ⚠️ drift (onDrift: warn): ${warning}`);
  if (g.revertRefused) lines.push(`- ❗ Git was not rolled back: ${g.revertRefused}`);
  return lines.join('\n');
}
