// Every command a Redis server runs, as MONITOR reports it (client commands, then the commands a
// script runs, marked `lua`), grouped into what must stay in one Cluster slot: a script call with
// its inner commands, a MULTI … EXEC transaction, or a single command. Keys come from the server's
// own COMMAND GETKEYS, never from our reading of a command's arguments.

import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

export interface MonitoredCall {
  /** The command (lower case) that opened the group: `evalsha`, `eval`, `multi`, `set`, … */
  command: string;
  /** For scripts: the SHA1 of the script (EVALSHA), or of its text in `scriptText`'s form (EVAL). */
  sha?: string;
  /** Every command of the group, first one first. */
  commands: string[][];
  source: string;
}

export interface RedisMonitor {
  /** Stop listening and group what was seen. */
  stop(): Promise<MonitoredCall[]>;
  /** The keys of each command of a call, asked of the server. */
  keysOf(call: MonitoredCall): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The id under which a script sent with EVAL shows up: MONITOR escapes a script's newlines, tabs
 * and quotes and ioredis undoes only some of that, so both sides are compared without whitespace
 * and backslashes.
 */
export function scriptId(text: string): string {
  return createHash('sha1').update(text.replace(/\\[nrt]|\s|\\/g, '')).digest('hex');
}

export async function monitorRedis(url: string): Promise<RedisMonitor> {
  const client = new Redis(url);
  const monitor = await client.monitor();
  const seen: Array<{ args: string[]; source: string }> = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ args, source }));
  const asker = new Redis(url);
  const cache = new Map<string, string[]>();

  const keysOfCommand = async (args: string[]): Promise<string[]> => {
    const id = JSON.stringify(args);
    const known = cache.get(id);
    if (known) return known;
    const keys = await (asker.call('COMMAND', 'GETKEYS', ...args) as Promise<string[]>).catch(() => [] as string[]);
    cache.set(id, keys);
    return keys;
  };

  return {
    async stop() {
      monitor.disconnect();
      const calls: MonitoredCall[] = [];
      const open = new Map<string, MonitoredCall>();
      for (const { args, source } of seen) {
        const name = (args[0] ?? '').toLowerCase();
        if (source === 'lua') {
          calls.at(-1)?.commands.push(args);
          continue;
        }
        const transaction = open.get(source);
        if (transaction) {
          transaction.commands.push(args);
          if (name === 'exec' || name === 'discard') open.delete(source);
          continue;
        }
        const call: MonitoredCall = { command: name, commands: [args], source };
        if (name === 'evalsha') call.sha = (args[1] ?? '').toLowerCase();
        if (name === 'eval') call.sha = scriptId(args[1] ?? '');
        if (name === 'multi') open.set(source, call);
        calls.push(call);
      }
      return calls;
    },
    async keysOf(call) {
      const keys: string[] = [];
      for (const args of call.commands) {
        const name = (args[0] ?? '').toLowerCase();
        if (name === 'multi' || name === 'exec' || name === 'discard') continue;
        keys.push(...(await keysOfCommand(args)));
      }
      return keys;
    },
    async close() {
      monitor.disconnect();
      client.disconnect();
      asker.disconnect();
    },
  };
}
