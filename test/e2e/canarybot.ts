// `canarybot` run from source (node --import tsx), so the end-to-end test exercises the code under test, not a stale dist/.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
