import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../app.js';

/** One dependency the bot needs to do its work; `probe` resolves true when it answers. */
export interface ReadinessCheck {
  name: string;
  probe(): Promise<boolean>;
}

export interface ReadinessRouteOptions {
  checks: () => ReadinessCheck[];
  /** Upper bound of one probe (default 3 s); a probe that takes longer counts as failed. */
  timeoutMs?: number;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
}

/** `GET /readyz`: 200 `{ ok: true, checks }` when every check passes, else 503 with the failed ones named. */
export function readinessRoute(options: ReadinessRouteOptions): RouteModule {
  const timeoutMs = options.timeoutMs ?? 3_000;
  return (app: FastifyInstance) => {
    app.get('/readyz', async (request, reply) => {
      const checks = await Promise.all(options.checks().map((check) => run(check, timeoutMs)));
      const failed = checks.filter((check) => !check.ok).map((check) => check.name);
      if (failed.length > 0) {
        request.log.warn({ failed }, 'not ready');
        return reply.code(503).send({ ok: false, failed, checks });
      }
      return reply.code(200).send({ ok: true, checks });
    });
  };
}

async function run(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const result = await Promise.race([check.probe(), timeout]);
    if (result === 'timeout') return { name: check.name, ok: false, error: `no answer within ${timeoutMs} ms` };
    return result ? { name: check.name, ok: true } : { name: check.name, ok: false, error: 'unreachable' };
  } catch (error) {
    return { name: check.name, ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
