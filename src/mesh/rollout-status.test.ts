import { describe, expect, it } from 'vitest';
import { rolloutStatus, type DeploymentState } from './rollout-status.js';

const deployment = (generation: number, replicas: number, status: DeploymentState['status']): DeploymentState => ({
  metadata: { name: 'reviews-canary', generation },
  spec: { replicas },
  status,
});

describe('rolloutStatus (kubectl rollout status rule)', () => {
  const rows: { name: string; input: DeploymentState; state: string; message?: string }[] = [
    { name: 'generation not yet observed', input: deployment(3, 2, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), state: 'progressing', message: 'waiting for Deployment reviews-canary spec update to be observed' },
    { name: 'new replicas not all updated', input: deployment(3, 2, { observedGeneration: 3, replicas: 2, updatedReplicas: 1, availableReplicas: 2 }), state: 'progressing', message: 'Deployment reviews-canary: 1 of 2 new replicas updated' },
    { name: 'old replicas still there', input: deployment(3, 2, { observedGeneration: 3, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }), state: 'progressing', message: 'Deployment reviews-canary: 1 old replicas pending termination' },
    { name: 'updated but not available', input: deployment(3, 2, { observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }), state: 'progressing', message: 'Deployment reviews-canary: 1 of 2 updated replicas available' },
    { name: 'complete', input: deployment(3, 2, { observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), state: 'ready' },
    { name: 'scaled to zero (zero counts omitted)', input: deployment(4, 0, { observedGeneration: 4 }), state: 'ready' },
    { name: 'no status yet', input: deployment(1, 1, undefined), state: 'progressing' },
    {
      name: 'progress deadline exceeded',
      input: deployment(3, 2, { observedGeneration: 3, replicas: 2, updatedReplicas: 1, conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x" has timed out progressing.' }] }),
      state: 'failed',
      message: 'Deployment reviews-canary exceeded its progress deadline: ReplicaSet "x" has timed out progressing.',
    },
  ];
  it.each(rows)('$name', ({ input, state, message }) => {
    const status = rolloutStatus(input);

    expect(status.state).toBe(state);
    if (message !== undefined) expect(status).toMatchObject({ message });
  });
});
