// Real Redis topologies for the tests, on free ports, started and stopped by the tests themselves:
// a Redis Cluster of N masters (`redis-server --cluster-enabled yes`, joined with
// `redis-cli --cluster create --cluster-yes`) and a Sentinel set (one master, one replica, three
// `redis-server --sentinel`). Every node keeps an append-only file fsynced on every write, so a
// restarted master comes back with its data.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitForPing } from '../../src/demo/start-redis.js';

interface Node {
  port: number;
  dir: string;
  args: string[];
  child: ChildProcess | null;
}

async function launch(node: Node): Promise<void> {
  const child = spawn('redis-server', node.args, { stdio: 'ignore', cwd: node.dir });
  child.on('error', () => undefined);
  node.child = child;
  await waitForPing(node.port, () => child.exitCode !== null);
}

async function halt(node: Node): Promise<void> {
  const running = node.child;
  node.child = null;
  if (!running || running.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    running.once('exit', () => resolve());
    running.kill('SIGKILL');
  });
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ask<T>(port: number, run: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await run(client);
  } finally {
    client.disconnect();
  }
}

const PERSISTENT = ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];

export interface RedisClusterServers {
  /** `host:port,…` for REDIS_CLUSTER_NODES. */
  nodes: string;
  ports: number[];
  /** The port of the master that holds `key`'s slot (CLUSTER KEYSLOT and CLUSTER SLOTS of the servers). */
  masterOf(key: string): Promise<number>;
  /** The slot of `key` as the server computes it. */
  keySlot(key: string): Promise<number>;
  /** SIGKILL one master and start it again on the same port (its data comes back from its AOF). */
  restart(port: number, downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisClusterServers> {
  const root = mkdtempSync(join(tmpdir(), 'canarybot-cluster-'));
  const nodes: Node[] = [];
  for (let i = 0; i < masters; i++) {
    const port = await freePort();
    const dir = join(root, String(port));
    mkdirSync(dir);
    nodes.push({
      port,
      dir,
      child: null,
      args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', ...PERSISTENT],
    });
  }
  const stop = async (): Promise<void> => {
    for (const node of nodes) await halt(node);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map(launch));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await untilClusterOk(nodes);
  } catch (error) {
    await stop();
    throw error;
  }
  const keySlot = (key: string): Promise<number> => ask(nodes[0]!.port, async (c) => Number(await c.cluster('KEYSLOT', key)));
  return {
    nodes: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    ports: nodes.map((n) => n.port),
    keySlot,
    async masterOf(key) {
      const slot = await keySlot(key);
      const ranges = (await ask(nodes[0]!.port, (c) => c.cluster('SLOTS'))) as unknown as Array<[number, number, [string, number]]>;
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range[2][1];
    },
    async restart(port, downMs = 0) {
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`no cluster node on ${port}`);
      await halt(node);
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await launch(node);
      await untilClusterOk(nodes);
    },
    stop,
  };
}

async function untilClusterOk(nodes: Node[]): Promise<void> {
  await until('the cluster state to be ok on every node', async () => {
    for (const node of nodes) {
      const info = await ask(node.port, (c) => c.cluster('INFO'));
      if (!String(info).includes('cluster_state:ok')) return false;
    }
    return true;
  }, 30_000);
}

export interface SentinelServers {
  /** `host:port,…` for REDIS_SENTINELS. */
  sentinels: string;
  name: string;
  masterPort: number;
  replicaPort: number;
  /** The port Sentinel currently names as master. */
  currentMaster(): Promise<number>;
  /** SENTINEL FAILOVER, then wait until the Sentinels name the other node as master. */
  failover(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedisSentinel(name = 'canarybot'): Promise<SentinelServers> {
  const root = mkdtempSync(join(tmpdir(), 'canarybot-sentinel-'));
  const all: Node[] = [];
  const node = async (label: string, args: (port: number, dir: string) => string[]): Promise<Node> => {
    const port = await freePort();
    const dir = join(root, `${label}-${port}`);
    mkdirSync(dir);
    const created: Node = { port, dir, child: null, args: args(port, dir) };
    all.push(created);
    return created;
  };
  const stop = async (): Promise<void> => {
    for (const n of all.reverse()) await halt(n);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const master = await node('master', (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...PERSISTENT]);
    await launch(master);
    const replica = await node('replica', (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--replicaof', '127.0.0.1', String(master.port), ...PERSISTENT]);
    await launch(replica);
    const sentinels: Node[] = [];
    for (let i = 0; i < 3; i++) {
      sentinels.push(
        await node('sentinel', (port, dir) => {
          const conf = join(dir, 'sentinel.conf');
          writeFileSync(
            conf,
            [
              `port ${port}`,
              'bind 127.0.0.1',
              `dir ${dir}`,
              `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
              `sentinel down-after-milliseconds ${name} 1000`,
              `sentinel failover-timeout ${name} 5000`,
              `sentinel parallel-syncs ${name} 1`,
              '',
            ].join('\n'),
          );
          return [conf, '--sentinel'];
        }),
      );
    }
    await Promise.all(sentinels.map(launch));
    await until('the replica to be in sync', async () => String(await ask(replica.port, (c) => c.info('replication'))).includes('master_link_status:up'));
    await until('every Sentinel to see the replica and the other Sentinels', async () => {
      for (const s of sentinels) {
        const replicas = (await ask(s.port, (c) => c.call('SENTINEL', 'REPLICAS', name))) as unknown[];
        const others = (await ask(s.port, (c) => c.call('SENTINEL', 'SENTINELS', name))) as unknown[];
        if (replicas.length < 1 || others.length < 2) return false;
      }
      return true;
    }, 30_000);
    const currentMaster = async (): Promise<number> => {
      const [, port] = (await ask(sentinels[0]!.port, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name))) as [string, string];
      return Number(port);
    };
    return {
      sentinels: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      name,
      masterPort: master.port,
      replicaPort: replica.port,
      currentMaster,
      async failover() {
        const before = await currentMaster();
        await ask(sentinels[0]!.port, (c) => c.call('SENTINEL', 'FAILOVER', name));
        await until('the Sentinels to promote the replica', async () => (await currentMaster()) !== before, 30_000);
        const after = await currentMaster();
        await until('the new master to accept writes', async () => String(await ask(after, (c) => c.info('replication'))).includes('role:master'));
        return after;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
