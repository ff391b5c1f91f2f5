import type { Release } from '../core/release.js';
import { qualifiedName } from './resolve-service.js';

/** One line per release for `/canary list` and `/canary status`. */
export function releaseLine(release: Release): string {
  const steps = release.definition.strategy.steps.length;
  const step = release.stepIndex >= 0 ? `, step ${Math.min(release.stepIndex + 1, steps)}/${steps}` : '';
  return `\`${qualifiedName(release)}\` ${release.state}${step}, canary ${release.weights.canary} % — \`${release.image}\``;
}

export function releaseList(releases: readonly Release[], empty: string): string {
  if (releases.length === 0) return empty;
  return releases.map((r) => `• ${releaseLine(r)}`).join('\n');
}

/** `/canary status <service>`: the line, why it ended, the latest gate figures and who approved. */
export function releaseStatus(release: Release): string {
  const lines = [releaseLine(release)];
  if (release.reason) lines.push(`Reason: ${release.reason}`);
  const gate = release.gates.at(-1);
  if (gate) {
    const figures = gate.check.measurements.map((m) => `${m.name} ${m.value ?? 'no data'} (${m.threshold}) ${m.verdict}`).join('; ');
    lines.push(`Last check (step ${gate.stepIndex + 1}): ${gate.check.verdict}${figures ? ` — ${figures}` : ''}`);
  }
  for (const approval of release.approvals) lines.push(`Approved step ${approval.stepIndex + 1} by @${approval.actor.username} via ${approval.actor.channel}`);
  if (release.mr?.url) lines.push(`MR: ${release.mr.url}`);
  return lines.join('\n');
}
