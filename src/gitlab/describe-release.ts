import type { Release } from '../core/release.js';
import { releasePageUrl } from '../core/release-links.js';

/** The `/canary status` answer: state, step, weights and a link to the full record. */
export function describeRelease(release: Release, publicUrl?: string): string {
  const steps = release.definition.strategy.steps;
  const step = steps[release.stepIndex];
  const where =
    release.stepIndex < 0 || !step ? 'not started' : `step ${release.stepIndex + 1} of ${steps.length} (${step.kind})`;
  const lines = [
    `**${release.service}** \`${release.image}\` in ${release.cluster}/${release.namespace}`,
    `State: **${release.state}**, ${where}`,
    `Weights: stable ${release.weights.stable} % / canary ${release.weights.canary} %`,
  ];
  if (release.reason) lines.push(`Reason: ${release.reason}`);
  if (publicUrl) lines.push(`Details: ${releasePageUrl(publicUrl, release.id)}`);
  return lines.join('\n');
}
