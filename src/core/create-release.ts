// A fresh release record for a trigger: nothing touched yet, all traffic on stable.

import type { Release, ReleaseTrigger } from './release.js';
import { ALL_STABLE } from './traffic.js';

export function createRelease(trigger: ReleaseTrigger, id: string, now: number): Release {
  const { definition } = trigger;
  return {
    id,
    definition,
    service: definition.name,
    namespace: definition.target.namespace,
    cluster: definition.target.clusters[0] ?? 'default',
    clusterIndex: 0,
    image: trigger.image,
    sha: trigger.sha,
    ref: trigger.ref,
    pipeline: trigger.pipeline,
    mr: trigger.mr,
    triggeredBy: trigger.actor,
    ...(trigger.freezes && trigger.freezes.length > 0 ? { freezes: trigger.freezes } : {}),
    state: 'pending',
    phase: 'created',
    stepIndex: -1,
    stepStartedAt: now,
    deadlineAt: null,
    wakeAt: null,
    wakeKey: null,
    resumeTo: null,
    trafficChangedAt: null,
    weights: { ...ALL_STABLE.weights },
    traffic: { ...ALL_STABLE, weights: { ...ALL_STABLE.weights } },
    analysis: null,
    approvals: [],
    rollbackOutcome: null,
    reason: null,
    gates: [],
    audit: [{ at: now, actor: trigger.actor, action: 'created', stepIndex: null, detail: `image ${trigger.image}` }],
    timeline: [],
    attempt: 1,
    version: 0,
    createdAt: now,
    updatedAt: now,
    endedAt: null,
  };
}
