// Pure pre-flight checks on objects already read: DestinationRule subsets and the Deployments they
// must select. Each problem is one sentence a platform engineer can act on.

import type { ReleaseTarget } from '../core/ports.js';
import type { DestinationRuleObject } from './schema.js';

export interface DeploymentShape {
  metadata?: { name?: string };
  spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: { name: string }[] } } };
}

function selects(labels: Record<string, string>, podLabels: Record<string, string>): boolean {
  return Object.entries(labels).every(([key, value]) => podLabels[key] === value);
}

function render(labels: Record<string, string>): string {
  const text = Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(',');
  return text === '' ? '(no labels)' : text;
}

/** Hosts match when equal or when one is the other's short name (reviews vs reviews.bookinfo.svc.cluster.local). */
export function sameHost(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

/**
 * A baseline subset must exist, select the baseline's pods (the Deployment's, or those canarybot will
 * create from stable's template) and nobody else's, and no other subset may select the baseline's.
 */
export function baselineProblems(
  target: Pick<ReleaseTarget, 'stable' | 'canary' | 'baseline'>,
  rule: DestinationRuleObject,
  deployments: { stable: DeploymentShape; canary: DeploymentShape; baseline: DeploymentShape | null },
): string[] {
  const baseline = target.baseline;
  if (!baseline) return [];
  const subsetOf = (name: string) => rule.spec.subsets?.find((candidate) => candidate.name === name);
  const subset = subsetOf(baseline.subset);
  if (!subset) return [`DestinationRule ${rule.metadata.name} has no subset ${baseline.subset} (target.baseline.subset)`];
  const labels = subset.labels ?? {};
  const stablePods = deployments.stable.spec?.template?.metadata?.labels ?? {};
  const baselinePods = deployments.baseline ? (deployments.baseline.spec?.template?.metadata?.labels ?? {}) : { ...stablePods, ...labels };
  const whose = deployments.baseline ? `the pods of Deployment ${baseline.deployment}` : `the baseline pods canarybot would create (${render(baselinePods)})`;
  const problems: string[] = [];
  if (Object.keys(labels).length === 0) problems.push(`DestinationRule ${rule.metadata.name} subset ${baseline.subset} has no labels, so it would select every pod of the host`);
  else if (!selects(labels, baselinePods)) problems.push(`DestinationRule ${rule.metadata.name} subset ${baseline.subset} selects ${render(labels)}, but ${whose} are labelled otherwise`);
  for (const side of ['stable', 'canary'] as const) {
    const ref = target[side];
    const pods = deployments[side].spec?.template?.metadata?.labels ?? {};
    if (Object.keys(labels).length > 0 && selects(labels, pods)) {
      problems.push(`DestinationRule ${rule.metadata.name} subset ${baseline.subset} (${render(labels)}) also selects the pods of Deployment ${ref.deployment}`);
    }
    const other = subsetOf(ref.subset);
    if (other && selects(other.labels ?? {}, baselinePods)) {
      problems.push(`DestinationRule ${rule.metadata.name} subset ${ref.subset} (${render(other.labels ?? {})}) would also select ${whose}; give subset ${baseline.subset} a label value of its own`);
    }
  }
  return problems;
}

export function subsetProblems(
  target: Pick<ReleaseTarget, 'stable' | 'canary'>,
  rule: DestinationRuleObject,
  deployments: { stable: DeploymentShape; canary: DeploymentShape },
): string[] {
  const problems: string[] = [];
  const sides = [
    { side: 'stable', ref: target.stable, deployment: deployments.stable, other: deployments.canary, otherName: target.canary.deployment },
    { side: 'canary', ref: target.canary, deployment: deployments.canary, other: deployments.stable, otherName: target.stable.deployment },
  ] as const;
  for (const { ref, deployment, other, otherName } of sides) {
    const podLabels = deployment.spec?.template?.metadata?.labels ?? {};
    const subset = rule.spec.subsets?.find((candidate) => candidate.name === ref.subset);
    if (!subset) {
      problems.push(`DestinationRule ${rule.metadata.name} has no subset ${ref.subset}`);
    } else {
      const labels = subset.labels ?? {};
      if (!selects(labels, podLabels)) {
        problems.push(
          `DestinationRule ${rule.metadata.name} subset ${ref.subset} selects ${render(labels)}, but the pods of Deployment ${ref.deployment} are labelled ${render(podLabels)}`,
        );
      } else if (selects(labels, other.spec?.template?.metadata?.labels ?? {})) {
        problems.push(
          `DestinationRule ${rule.metadata.name} subset ${ref.subset} (${render(labels)}) also selects the pods of Deployment ${otherName}; give the subsets distinct labels`,
        );
      }
    }
    const containers = deployment.spec?.template?.spec?.containers ?? [];
    const container = ref.container || target.canary.container;
    if (!containers.some((candidate) => candidate.name === container)) {
      problems.push(`Deployment ${ref.deployment} has no container named ${container}`);
    }
  }
  return problems;
}
