// A bot in this process on a Redis topology given by environment variables (REDIS_CLUSTER_NODES,
// REDIS_SENTINELS …), with the real adapters against the Kubernetes and GitLab API test servers:
// what the Cluster, Sentinel and TLS tests share.

import { loadConfig } from '../../src/config.js';
import { createBot, type Bot } from '../../src/server/create-bot.js';
import { BOT_USER, commentHook, pipelineHook, PROJECT, ROOT, webhookHeaders, type World } from '../e2e/world.js';
import { healthyMetrics as healthy, quietAlertmanager } from '../support/healthy-gates.js';

export const SECRET = 'topology-webhook-secret';

export async function startBot(world: World, redisEnv: Record<string, string>): Promise<Bot> {
  const config = loadConfig({
    ...redisEnv,
    GITLAB_URL: world.gitlab.url,
    GITLAB_TOKEN: world.gitlab.token,
    GITLAB_WEBHOOK_SECRET: SECRET,
    GITLAB_WRITES_PER_MINUTE: '100000',
    KUBECONFIG: world.kubeconfig,
    PIPELINES_DIR: world.pipelinesDir,
    LOG_LEVEL: 'silent',
  });
  const bot = await createBot(config, {
    metricProvider: healthy,
    alertGate: quietAlertmanager,
    writebackPollMs: 50,
    engine: { timing: { lockTtlMs: 2_000, jobLockMs: 2_000, stalledIntervalMs: 1_000, recoverIntervalMs: 1_000 } },
  });
  await bot.start();
  return bot;
}

export async function deliver(bot: Bot, hook: object, event: 'Pipeline Hook' | 'Note Hook'): Promise<number> {
  const response = await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, event), payload: hook });
  return response.statusCode;
}

export const pipeline = (sha: string, iid: number) => pipelineHook(sha, iid);
export const approve = (world: World, iid: number) => commentHook(world, iid, '/canary approve', ROOT);

/**
 * `/canary status` comments on MR `iid`, one every `everyMs` until stopped: each answer's status
 * code, and the discussions of those acknowledged with 2xx (each must get the bot's reply: none lost).
 */
export function statusCommandStream(bot: Bot, world: World, iid: number, everyMs = 50) {
  const answers: number[] = [];
  const acknowledged: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const hook = commentHook(world, iid, '/canary status', ROOT) as { object_attributes: { discussion_id: string } };
      const status = await deliver(bot, hook, 'Note Hook');
      answers.push(status);
      if (status >= 200 && status < 300) acknowledged.push(hook.object_attributes.discussion_id);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    answers,
    acknowledged,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Acknowledged discussions without a reply by the bot. */
export function unanswered(world: World, iid: number, discussions: string[]): string[] {
  const answered = new Set(world.gitlab.notes(PROJECT, iid).filter((note) => note.authorId === BOT_USER.id).map((note) => note.discussionId));
  return discussions.filter((id) => !answered.has(id));
}
