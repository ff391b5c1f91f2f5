// Moved to src/sim/kube/ (the demo runs it too); kept here so tests import it unchanged.
export * from '../../../src/sim/kube/rollout.js';
