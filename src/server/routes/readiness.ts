import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../app.js';

/** One dependency the bot needs to do its work; `probe` resolves true when it answers. */
export interface ReadinessCheck {
  name: string;
  probe(): Promise<boolean>;
}

export interface ReadinessRouteOptions {
  /** What this pod needs to serve webhooks (Redis): any failing one makes it unready. */
  checks: () => ReadinessCheck[];
  /**
   * Checks shown by `GET /readyz?verbose` only (as `details`), never making the pod unready:
   * remote clusters, idle workers. (A replica unready because one remote cluster is away would
   * fail the webhooks of every other cluster exactly during an incident.)
   */
  verboseChecks?: () => ReadinessCheck[];
  /** Upper bound of one probe (default 3 s); a probe that takes longer counts as failed. */
  timeoutMs?: number;
  /**
   * Extra facts for `GET /readyz?verbose` (blocked rollbacks, …); they never change readiness. A
   * failure is reported as `detailsError` instead.
   */
  details?: () => Promise<Record<string, unknown>>;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
}

/**
 * `GET /readyz`: 200 `{ ok: true, checks }` when every check passes, else 503 with the failed ones
 * named; `?verbose` adds `details` (informational checks that do not decide readiness).
 */
export function readinessRoute(options: ReadinessRouteOptions): RouteModule {
  const timeoutMs = options.timeoutMs ?? 3_000;
  return (app: FastifyInstance) => {
    app.get('/readyz', async (request, reply) => {
      const verbose = typeof request.query === 'object' && request.query !== null && 'verbose' in request.query;
      const [checks, details, extra] = await Promise.all([
        Promise.all(options.checks().map((check) => run(check, timeoutMs))),
        verbose && options.details ? verboseDetails(options.details, timeoutMs) : Promise.resolve({}),
        verbose && options.verboseChecks ? Promise.all(options.verboseChecks().map((check) => run(check, timeoutMs))) : Promise.resolve(null),
      ]);
      const failed = checks.filter((check) => !check.ok).map((check) => check.name);
      const verboseChecks = extra ? { details: extra } : {};
      if (failed.length > 0) {
        request.log.warn({ failed }, 'not ready');
        return reply.code(503).send({ ok: false, failed, checks, ...details, ...verboseChecks });
      }
      return reply.code(200).send({ ok: true, checks, ...details, ...verboseChecks });
    });
  };
}

async function verboseDetails(details: () => Promise<Record<string, unknown>>, timeoutMs: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const result = await Promise.race([details(), timeout]);
    return result === 'timeout' ? { detailsError: `no answer within ${timeoutMs} ms` } : result;
  } catch (error) {
    return { detailsError: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
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
