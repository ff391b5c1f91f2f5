import type { RolloutStatus } from '../core/ports.js';

export interface DeploymentState {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type?: string; reason?: string; message?: string }[];
  };
}

/** kubectl rollout status's rule: the new generation observed, every replica updated and available, no old ones left. */
export function rolloutStatus(deployment: DeploymentState): RolloutStatus {
  const name = deployment.metadata?.name ?? '?';
  const status = deployment.status ?? {};
  if ((deployment.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { state: 'progressing', message: `waiting for Deployment ${name} spec update to be observed` };
  }
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', message: `Deployment ${name} exceeded its progress deadline${progressing.message ? `: ${progressing.message}` : ''}` };
  }
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < desired) {
    return { state: 'progressing', message: `Deployment ${name}: ${updated} of ${desired} new replicas updated` };
  }
  if (total > updated) {
    return { state: 'progressing', message: `Deployment ${name}: ${total - updated} old replicas pending termination` };
  }
  if (available < updated) {
    return { state: 'progressing', message: `Deployment ${name}: ${available} of ${updated} updated replicas available` };
  }
  return { state: 'ready' };
}
