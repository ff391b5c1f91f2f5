// Moved to src/sim/ (the demo runs it too); kept here so tests import it unchanged.
export * from '../../src/sim/gitlab-api-server.js';
