// The demo ships the same helper in src/ (it must be in dist/); tests use that one.
export { freePort } from '../../src/demo/start-redis.js';
