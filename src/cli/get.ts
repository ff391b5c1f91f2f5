// `canarybot get [service] [--watch] [-o wide|json|yaml]`: releases through the HTTP API, as
// `kubectl argo rollouts get` shows rollouts. `status` is an alias (and, without CANARYBOT_URL,
// still reads Redis next to the bot as it always did).

import { stringify } from 'yaml';
import type { BoardRelease } from '../engine/board-view.js';
import { apiClient, CliError, type ApiClient } from './api-client.js';
import type { CliIo } from './io.js';
import { formatReleases, type OutputFormat } from './release-table.js';

export const GET_HELP = `usage: canarybot get [service] [--watch] [-o wide|json|yaml] [--interval <seconds>]

The live releases and the latest release of every service (or the last releases of one service):
NAME, AGE, STATE, STEP, WEIGHTS and WAITING FOR; -o wide adds cluster, strategy, image and release id.
--watch redraws the table in place every --interval seconds (default 2) until Ctrl-C.

Environment: CANARYBOT_URL (the bot's address), CANARYBOT_TOKEN (your GitLab access token),
NO_COLOR (no colours). Exit codes: 0 done, 1 failed, 2 usage or configuration.
`;

export interface GetDeps {
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Tests: stop watching after this many redraws. */
  rounds?: number;
}

interface GetArgs {
  service?: string;
  watch: boolean;
  output: OutputFormat;
  intervalMs: number;
}

export function parseGetArgs(args: string[]): GetArgs {
  const parsed: GetArgs = { watch: false, output: 'table', intervalMs: 2_000 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--watch' || arg === '-w') parsed.watch = true;
    else if (arg === '-o' || arg === '--output' || arg.startsWith('-o=') || arg.startsWith('--output=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
      if (value !== 'wide' && value !== 'json' && value !== 'yaml') throw new CliError('-o must be wide, json or yaml', 2);
      parsed.output = value;
    } else if (arg === '--interval') {
      const seconds = Number(args[++i]);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new CliError('--interval must be a number of seconds above 0', 2);
      parsed.intervalMs = seconds * 1000;
    } else if (arg.startsWith('-')) throw new CliError(`unknown option ${arg}`, 2);
    else if (parsed.service === undefined) parsed.service = arg;
    else throw new CliError('give at most one service', 2);
  }
  return parsed;
}

/** Every live release, then the newest ended one of each service without a live one (or one service's last ten). */
export async function releaseRows(client: ApiClient, service?: string): Promise<BoardRelease[]> {
  if (service) {
    const { releases } = await client.get<{ releases: BoardRelease[] }>(`/api/releases?view=board&service=${encodeURIComponent(service)}&limit=10`);
    return releases;
  }
  const [{ releases: live }, { releases: recent }] = await Promise.all([
    client.get<{ releases: BoardRelease[] }>('/api/releases?view=board&state=live&limit=200'),
    client.get<{ releases: BoardRelease[] }>('/api/releases?view=board&limit=200'),
  ]);
  const seen = new Set(live.map((r) => `${r.cluster}/${r.namespace}/${r.service}`));
  const latest = recent.filter((r) => {
    const key = `${r.cluster}/${r.namespace}/${r.service}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return [...live, ...latest];
}

export function colorWanted(io: CliIo): boolean {
  return io.env.NO_COLOR === undefined && (io.stdout as { isTTY?: boolean }).isTTY === true;
}

export async function runGet(args: string[], io: CliIo, deps: GetDeps = {}): Promise<number> {
  const options = parseGetArgs(args);
  const client = apiClient(io, deps.fetch);
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const tty = (io.stdout as { isTTY?: boolean }).isTTY === true;
  for (let round = 1; ; round++) {
    const rows = await releaseRows(client, options.service);
    let text: string;
    if (options.output === 'json') text = `${JSON.stringify({ releases: rows }, null, 2)}\n`;
    else if (options.output === 'yaml') text = stringify({ releases: rows });
    else text = formatReleases(rows, { wide: options.output === 'wide', color: colorWanted(io), now: now() });
    // In place on a terminal (cursor home, clear below); a blank line between tables otherwise.
    io.stdout.write(options.watch && tty ? `\u001b[H\u001b[J${text}` : round > 1 ? `\n${text}` : text);
    if (!options.watch || (deps.rounds !== undefined && round >= deps.rounds)) return 0;
    await sleep(options.intervalMs);
  }
}
