// `canarybot <command>`: a table of commands, each in its own file exporting `run(args)`.

import { exitOnConfigError } from '../config.js';
import { packageVersion } from '../build-info.js';

export interface CliCommand {
  summary: string;
  /** Returns the process exit code. */
  run(args: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<CliCommand>> = {
  serve: () => import('./serve.js').then((m) => m.serveCommand),
  validate: () => import('./validate.js').then((m) => m.validateCommand),
  plan: () => import('./plan.js').then((m) => m.planCommand),
  judge: () => import('./judge.js').then((m) => m.judgeCommand),
  schema: () => import('./schema.js').then((m) => m.schemaCommand),
  get: () => import('./operate.js').then((m) => m.getCommand),
  status: () => import('./status.js').then((m) => m.statusCommand),
  describe: () => import('./operate.js').then((m) => m.describeCommand),
  approve: () => import('./operate.js').then((m) => m.actCommand('approve')),
  promote: () => import('./operate.js').then((m) => m.actCommand('promote')),
  abort: () => import('./operate.js').then((m) => m.actCommand('abort')),
  pause: () => import('./operate.js').then((m) => m.actCommand('pause')),
  resume: () => import('./operate.js').then((m) => m.actCommand('resume')),
  retry: () => import('./operate.js').then((m) => m.actCommand('retry')),
  'override-freeze': () => import('./operate.js').then((m) => m.actCommand('override-freeze')),
  completion: () => import('./operate.js').then((m) => m.completionCommand),
  demo: () => import('./demo.js').then((m) => m.demoCommand),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`canarybot ${packageVersion()}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`canarybot: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const command = await load();
  try {
    return await command.run(rest);
  } catch (error) {
    // A bad environment is one line on stderr and exit code 2, never a stack trace.
    return exitOnConfigError(error);
  }
}

function usage(): string {
  const lines = Object.keys(commands).map((name) => `  ${name}`);
  return `usage: canarybot <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun "canarybot <command> --help" for a command's options.\n`;
}
