// The baseline Deployment canarybot runs for the length of a release (target.baseline): the stable
// Deployment's pod template — so the stable image, configuration and resources — relabelled into the
// baseline subset, at the canary's size. Pure: the object is computed here, written by the workload
// controller. A Deployment canarybot did not create is used in place and never deleted.

import type { V1Deployment } from '@kubernetes/client-node';
import type { ReleaseTarget } from '../core/ports.js';

/** Marks a Deployment canarybot created as a baseline (value: the stable Deployment it copies). */
export const BASELINE_ANNOTATION = 'canarybot.io/baseline-of';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'canarybot' };

export function isOurBaseline(deployment: V1Deployment | undefined): boolean {
  return deployment?.metadata?.annotations?.[BASELINE_ANNOTATION] !== undefined;
}

/** The baseline pods' labels: the stable pods' with the baseline subset's labels over them. */
export function baselinePodLabels(stablePodLabels: Readonly<Record<string, string>>, subsetLabels: Readonly<Record<string, string>>): Record<string, string> {
  return { ...stablePodLabels, ...subsetLabels };
}

export function baselineDeployment(target: ReleaseTarget, stable: V1Deployment, subsetLabels: Readonly<Record<string, string>>, replicas: number): V1Deployment {
  const baseline = target.baseline!;
  const template = structuredClone(stable.spec?.template ?? {});
  const podLabels = baselinePodLabels(template.metadata?.labels ?? {}, subsetLabels);
  // Selecting on the stable selector's keys, with the subset's values where it sets them, keeps the
  // baseline's pods apart from the stable Deployment's.
  const selector = Object.fromEntries(Object.keys({ ...stable.spec?.selector?.matchLabels, ...subsetLabels }).map((key) => [key, podLabels[key] ?? '']));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: baseline.deployment,
      namespace: target.namespace,
      labels: { ...MANAGED_BY, 'canarybot.io/service': target.service },
      annotations: { [BASELINE_ANNOTATION]: target.stable.deployment },
    },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      template: { ...template, metadata: { ...template.metadata, labels: podLabels } },
    },
  };
}
