// Deployment controller stand-in: a spec change starts a rollout that completes (or exceeds its
// progress deadline) after a delay. Zero counts are omitted from status, as the real controller does.

type Obj = Record<string, unknown>;

export interface DeploymentLike extends Obj {
  metadata: Obj & { name: string; generation?: number };
  spec: Obj & { replicas?: number; template?: Obj };
  status?: Obj;
}

function counts(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== 0));
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function condition(type: string, status: string, reason: string, message: string): Obj {
  return { type, status, reason, message, lastUpdateTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() };
}

export function templateHash(deployment: DeploymentLike): string {
  const text = JSON.stringify(deployment.spec.template ?? {});
  let hash = 2166136261;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return (hash >>> 0).toString(36).slice(0, 10);
}

/** Status right after a spec change: the new generation is observed, new pods not yet up. */
export function progressingStatus(next: DeploymentLike, previous: DeploymentLike | undefined): Obj {
  const old = previous?.status ?? {};
  const desired = next.spec.replicas ?? 1;
  const templateChanged = JSON.stringify(previous?.spec.template) !== JSON.stringify(next.spec.template);
  const oldReplicas = num(old.replicas);
  const updated = templateChanged ? 0 : Math.min(num(old.updatedReplicas), desired);
  return {
    ...counts({
      replicas: Math.max(oldReplicas, updated),
      updatedReplicas: updated,
      readyReplicas: num(old.readyReplicas),
      availableReplicas: num(old.availableReplicas),
      unavailableReplicas: Math.max(0, desired - num(old.availableReplicas)),
    }),
    observedGeneration: next.metadata.generation ?? 1,
    conditions: [condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${next.metadata.name}-${templateHash(next)}" is progressing.`)],
  };
}

export function completeStatus(deployment: DeploymentLike): Obj {
  const desired = deployment.spec.replicas ?? 1;
  return {
    ...counts({ replicas: desired, updatedReplicas: desired, readyReplicas: desired, availableReplicas: desired }),
    observedGeneration: deployment.metadata.generation ?? 1,
    conditions: [
      condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
      condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${deployment.metadata.name}-${templateHash(deployment)}" has successfully progressed.`),
    ],
  };
}

export function deadlineExceededStatus(deployment: DeploymentLike): Obj {
  const status = deployment.status ?? {};
  return {
    ...status,
    conditions: [
      condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
      condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${deployment.metadata.name}-${templateHash(deployment)}" has timed out progressing.`),
    ],
  };
}
