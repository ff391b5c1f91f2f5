// `canarybot demo`: one command that shows the whole loop on this machine (needs only Node and a
// redis-server binary, or REDIS_URL): two releases of Bookinfo's `reviews` against simulated
// Kubernetes, GitLab and traffic, one promoted and one rolled back, with the MR notes written out.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runDemo } from '../demo/run-demo.js';
import { RedisServerMissingError } from '../demo/start-redis.js';
import { processIo, type CliIo } from './io.js';
import type { CliCommand } from './main.js';

const HELP = `usage: canarybot demo [--output <dir>]

Runs canarybot end to end in about 40 seconds, with nothing to set up: the real bot (HTTP
server, queue, engine, GitLab write-back) against built-in simulators of the Kubernetes API
(Bookinfo's reviews: Deployments, an Istio VirtualService and DestinationRule), the GitLab API
and Istio traffic metrics. It releases a healthy build (promoted after an automatic approval by a
demo Maintainer) and then a broken one (rolled back by its failing success rate), shows each
release's progress, and writes the rendered merge-request notes to <dir>.

  --output <dir>   where the MR notes and the bot's log go
                   (default: $DEMO_OUTPUT_DIR, else ./demo-output)

Redis: REDIS_URL if set, else a redis-server started on a free port for the demo.
Exit code 0 when one release was promoted and the other rolled back.
`;

export async function runDemoCommand(args: string[], io: CliIo & { stdout: { isTTY?: boolean } } = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, output: { type: 'string', short: 'o' } } });
  } catch (error) {
    io.stderr.write(`canarybot demo: ${(error as Error).message}\n\n${HELP}`);
    return 1;
  }
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const outputDir = resolve(parsed.values.output ?? (io.env.DEMO_OUTPUT_DIR || 'demo-output'));
  try {
    const result = await runDemo({ outputDir, out: io.stdout, env: io.env });
    if (!result.ok) io.stderr.write('canarybot demo: the releases did not end as expected (one promoted, two rolled back; the train promoted, then rolled back)\n');
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof RedisServerMissingError) {
      io.stderr.write('canarybot demo: needs Redis — install redis-server (apt install redis-server, brew install redis) or set REDIS_URL\n');
      return 1;
    }
    io.stderr.write(`canarybot demo: ${(error as Error).message}\n`);
    return 1;
  }
}

export const demoCommand: CliCommand = {
  summary: 'run two simulated releases end to end (no cluster needed)',
  run: (args) => runDemoCommand(args),
};
