// `canarybot status [service]`: the live and latest releases, read from the same records as the API.

import { ConfigError, loadConfig } from '../config.js';
import type { ReleaseReader } from '../engine/api.js';
import { ReleaseStore } from '../engine/release-store.js';
import { isLive, type Release } from '../core/release.js';
import { redisConnections } from '../redis/connect-redis.js';
import type { CliCommand } from './main.js';

const HELP = `usage: canarybot status [service] [--prefix <prefix>]

An alias of canarybot get when CANARYBOT_URL is set (over the HTTP API, as your GitLab user; see
canarybot get --help). Without it, reads Redis directly next to the bot, as before: prints the live
releases and the latest release of every service (or the last releases of one service) as a table.

  service            only this service (metadata.name of its definition)
  --prefix <prefix>  Redis key prefix of the engine (default: REDIS_PREFIX, else {canarybot})

Environment: the Redis variables of canarybot serve — REDIS_URL (default redis://127.0.0.1:6379),
or REDIS_SENTINELS and REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES (see canarybot serve --help).
`;

const HISTORY = 10;
const SCAN = 200;

/** The rows `status` prints: every live release, then the latest ended release of each service without one. */
export async function statusRows(reader: Pick<ReleaseReader, 'list'>, service?: string): Promise<Release[]> {
  if (service) return reader.list({ service, limit: HISTORY });
  const live = await reader.list({ state: 'live', limit: SCAN });
  const seen = new Set(live.map((release) => release.service));
  const latest: Release[] = [];
  for (const release of await reader.list({ limit: SCAN })) {
    if (seen.has(release.service) || isLive(release.state)) continue;
    seen.add(release.service);
    latest.push(release);
  }
  return [...live, ...latest];
}

export function formatTable(releases: Release[]): string {
  if (releases.length === 0) return 'no releases\n';
  const header = ['SERVICE', 'RELEASE', 'STATE', 'STEP', 'CANARY', 'IMAGE', 'UPDATED'];
  const rows = releases.map((release) => {
    const steps = release.definition.strategy.steps.length;
    const step = release.stepIndex < 0 ? `-/${steps}` : `${release.stepIndex + 1}/${steps}`;
    const tag = release.image.slice(release.image.lastIndexOf('/') + 1);
    return [
      `${release.namespace}/${release.service}`,
      release.id,
      release.state,
      step,
      `${release.weights.canary}%`,
      tag,
      new Date(release.updatedAt).toISOString().replace('T', ' ').slice(0, 19),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export const statusCommand: CliCommand = {
  summary: 'show live and latest releases',
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(HELP);
      return 0;
    }
    if (process.env.CANARYBOT_URL) return (await import('./operate.js')).getCommand.run(args);
    let prefix: string | undefined;
    const positional: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] ?? '';
      if (arg === '--prefix') {
        const value = args[++i];
        if (!value) return usageError('--prefix needs a value');
        prefix = value;
      } else if (arg.startsWith('-')) {
        return usageError(`unknown option ${arg}`);
      } else positional.push(arg);
    }
    if (positional.length > 1) return usageError('give at most one service');
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(process.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`canarybot: configuration error: ${error.message}\n`);
      return 2;
    }
    const redis = redisConnections(config.redis).open({ maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const rows = await statusRows(new ReleaseStore(redis, prefix ?? config.redisPrefix), positional[0]);
      process.stdout.write(formatTable(rows));
      return 0;
    } catch (error) {
      process.stderr.write(`canarybot status: cannot read releases from Redis: ${(error as Error).message}\n`);
      return 1;
    } finally {
      redis.disconnect();
    }
  },
};

function usageError(message: string): number {
  process.stderr.write(`canarybot status: ${message}\n\n${HELP}`);
  return 2;
}
