// Moved to src/sim/ (the demo runs it too); kept here so tests import it unchanged.
export * from '../../src/sim/kube-api-server.js';
