// `canarybot approve|promote|abort|pause|resume|retry|override-freeze <service|release-id> [--reason …]`: a command as
// the user of CANARYBOT_TOKEN, answered with the same sentence as an MR comment.

import type { ActingVerb } from '../core/command.js';
import { apiClient, CliError } from './api-client.js';
import { findRelease } from './describe.js';
import type { CliIo } from './io.js';

export const ACT_HELP = (verb: string): string => `usage: canarybot ${verb} <service|release-id> ${verb === 'override-freeze' ? '--reason <text>' : '[--reason <text>]'}

${verb} the release (a service name means its live release${verb === 'retry' ? ', else its newest' : ''}) as the GitLab user of
CANARYBOT_TOKEN, under the definition's approvals policy exactly as a /canary comment.
Exit codes: 0 done, 1 refused or failed (the reason is printed), 2 usage or configuration.
`;

export async function runAct(verb: ActingVerb, args: string[], io: CliIo, deps: { fetch?: typeof fetch } = {}): Promise<number> {
  let reason: string | undefined;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--reason' || arg === '-r') {
      reason = args[++i];
      if (!reason) throw new CliError('--reason needs a text', 2);
    } else if (arg.startsWith('--reason=')) reason = arg.slice('--reason='.length);
    else if (arg.startsWith('-')) throw new CliError(`unknown option ${arg}`, 2);
    else names.push(arg);
  }
  if (names.length !== 1) throw new CliError(`give one service or release id: canarybot ${verb} <service|release-id>`, 2);
  if (verb === 'override-freeze' && !reason?.trim()) throw new CliError('override-freeze needs --reason <text> (it is audited)', 2);
  const client = apiClient(io, deps.fetch);
  const id = await findRelease(client, names[0]!, { liveOnly: verb !== 'retry' });
  const { status, body } = await client.post<{ ok: boolean | null; message: string }>(`/api/releases/${encodeURIComponent(id)}/commands`, {
    command: verb,
    ...(reason ? { reason } : {}),
  });
  if (body.ok === false || status >= 400) {
    io.stderr.write(`${body.message}\n`);
    return 1;
  }
  io.stdout.write(`${body.message}\n`);
  return 0;
}
