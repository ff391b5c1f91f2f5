// The operator commands over the HTTP API as CliCommands: get (and status with CANARYBOT_URL),
// describe, the six release commands, completion. A CliError is one line on stderr and its exit code.

import type { ActingVerb } from '../core/command.js';
import { ACT_HELP, runAct } from './act.js';
import { CliError } from './api-client.js';
import { completionScript } from './completion.js';
import { DESCRIBE_HELP, runDescribe } from './describe.js';
import { GET_HELP, runGet } from './get.js';
import { processIo, type CliIo } from './io.js';
import type { CliCommand } from './main.js';

function command(summary: string, help: string, run: (args: string[], io: CliIo) => Promise<number>, io: CliIo = processIo): CliCommand {
  return {
    summary,
    async run(args) {
      if (args.includes('--help') || args.includes('-h')) {
        io.stdout.write(help);
        return 0;
      }
      try {
        return await run(args, io);
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        io.stderr.write(`canarybot: ${error.message}\n`);
        return error.exitCode;
      }
    },
  };
}

export const getCommand = command('releases as a table (--watch, -o wide|json|yaml)', GET_HELP, (args, io) => runGet(args, io));
export const describeCommand = command('one release in full: steps, gate figures, audit', DESCRIBE_HELP, (args, io) => runDescribe(args, io));
export const completionCommand = command('bash or zsh completion script', 'usage: canarybot completion bash|zsh\n', async (args, io) => {
  io.stdout.write(completionScript(args[0] ?? ''));
  return 0;
});

export function actCommand(verb: ActingVerb): CliCommand {
  return command(`${verb} a release as your GitLab user`, ACT_HELP(verb), (args, io) => runAct(verb, args, io));
}
