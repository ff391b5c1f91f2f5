// Which Kubernetes Event an effect that has just succeeded deserves, by the state the release was in
// when the core asked for it. Pure; the executor writes it through the ClusterEventRecorder port.

import type { Effect } from '../core/effect.js';
import type { ClusterEvent } from '../core/ports.js';
import type { Release } from '../core/release.js';

function weights(effect: Extract<Effect, { type: 'set-traffic' }>): string {
  const { stable, canary } = effect.traffic.weights;
  return `stable ${stable} %, canary ${canary} %`;
}

export function clusterEventFor(release: Release, effect: Effect): ClusterEvent | null {
  const tag = release.image.slice(release.image.lastIndexOf(':') + 1);
  switch (effect.type) {
    case 'set-traffic':
      if (release.state === 'rolling-back') {
        return { reason: 'RolledBack', type: 'Warning', note: `canarybot rolled ${release.service} back to stable: ${release.reason ?? 'rollback'} (${weights(effect)})`, regarding: ['virtual-service'] };
      }
      if (release.state === 'promoting') {
        return { reason: 'Promoted', type: 'Normal', note: `canarybot promoted ${release.service} to ${tag}: all traffic on stable (${weights(effect)})`, regarding: ['virtual-service'] };
      }
      return { reason: 'TrafficShifted', type: 'Normal', note: `canarybot release ${release.id} step ${release.stepIndex + 1}: ${weights(effect)}`, regarding: ['virtual-service'] };
    case 'ensure-stable':
      return release.state === 'rolling-back'
        ? { reason: 'RolledBack', type: 'Warning', note: `canarybot put ${effect.image} back on the stable Deployment`, regarding: ['stable'] }
        : { reason: 'Promoted', type: 'Normal', note: `canarybot set ${effect.image} on the stable Deployment (release ${release.id})`, regarding: ['stable'] };
    case 'ensure-canary':
      return { reason: 'CanaryDeployed', type: 'Normal', note: `canarybot runs ${effect.image} on the canary Deployment (release ${release.id})`, regarding: ['canary'] };
    case 'scale-canary':
      return effect.replicas === 0
        ? { reason: 'ScaledDown', type: 'Normal', note: `canarybot scaled the canary to 0 (release ${release.id} ${release.state})`, regarding: ['canary'] }
        : null;
    default:
      return null;
  }
}
