// `canarybot serve`: the HTTP server and the workers, until SIGTERM or SIGINT.

import { ConfigError, CONFIG_VARIABLES, loadServeConfig } from '../config.js';
import { RedisRequirementError } from '../redis/check-redis-server.js';
import { createBot, InvalidDefinitionsError, type Bot } from '../server/create-bot.js';
import { processIo, type CliIo } from './io.js';
import type { CliCommand } from './main.js';

const HELP = `usage: canarybot serve

Runs the webhook and chat endpoints, the read API, /healthz, /readyz and /metrics, and the release
workers. Configuration comes from the environment; each secret may instead be read from the file
named by <NAME>_FILE. SIGTERM or SIGINT stops it gracefully: no new requests, running jobs finish,
Redis is closed. A second signal exits at once.

Required: GITLAB_URL, GITLAB_TOKEN, GITLAB_WEBHOOK_SECRET.

Environment:
${CONFIG_VARIABLES.map((v) => `  ${v.name.padEnd(30)}${v.default !== undefined ? `default ${v.default}` : ''}${v.secret ? `${v.default !== undefined ? ', ' : ''}secret (or ${v.name}_FILE)` : ''}`).join('\n')}
`;

export interface ServeDeps {
  io: CliIo;
  /** Signals to stop on (tests pass their own emitter). */
  signals: Pick<NodeJS.Process, 'on'>;
  /** Called on a second signal. */
  exit: (code: number) => void;
}

export async function serve(args: string[], deps: ServeDeps): Promise<number> {
  const { io } = deps;
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(HELP);
    return 0;
  }
  if (args.length > 0) {
    io.stderr.write(`canarybot serve: unexpected argument "${args[0]}" (see canarybot serve --help)\n`);
    return 1;
  }
  let bot: Bot;
  try {
    bot = await createBot(loadServeConfig(io.env));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof InvalidDefinitionsError) {
      io.stderr.write(`canarybot: invalid pipeline definitions, not starting:\n${error.lines.map((line) => `  ${line}`).join('\n')}\n`);
      return 2;
    }
    io.stderr.write(`canarybot: cannot start: ${(error as Error).message}\n`);
    return 1;
  }

  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        bot.logger.warn({ signal }, 'second signal: exiting now');
        deps.exit(130);
        return;
      }
      stopping = true;
      bot.logger.info({ signal }, 'signal received, stopping');
      void bot.close().then(resolve, resolve);
    };
    for (const signal of ['SIGTERM', 'SIGINT'] as const) deps.signals.on(signal, onSignal);
  });

  try {
    await bot.start();
    await bot.listen();
  } catch (error) {
    bot.logger.error({ err: (error as Error).message }, 'cannot start');
    if (error instanceof RedisRequirementError) io.stderr.write(`canarybot: cannot start: ${error.message}\n`);
    await bot.close();
    return 1;
  }
  await stopped;
  return 0;
}

export const serveCommand: CliCommand = {
  summary: 'run the HTTP server and the release workers',
  async run(args) {
    const code = await serve(args, { io: processIo, signals: process, exit: (status) => process.exit(status) });
    // Everything is closed; should a stray handle keep the loop alive, do not hang the pod's shutdown.
    setTimeout(() => process.exit(code), 2_000).unref();
    return code;
  },
};
