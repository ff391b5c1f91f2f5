import type { FastifyReply } from 'fastify';
import type { AlertRequest, ReleaseEngine } from '../../engine/api.js';
import type { Metrics } from '../../metrics.js';

/**
 * Hand every firing alert to the engine (which aborts matching live releases with priority) and
 * answer: 202 with the aborted release ids, or 200 `{ ignored }` when nothing matched.
 */
export async function dispatchAlerts(
  engine: Pick<ReleaseEngine, 'alertBatch'>,
  firing: AlertRequest[],
  reply: FastifyReply,
  source: string,
  metrics?: Metrics,
): Promise<FastifyReply> {
  const count = (outcome: string): void => metrics?.webhookDeliveries.inc({ source, event: 'alert', outcome });
  if (firing.length === 0) {
    count('ignored');
    return reply.code(200).send({ ignored: 'no firing alerts in the payload' });
  }
  let aborted: string[];
  try {
    ({ releaseIds: aborted } = await engine.alertBatch(firing));
  } catch (error) {
    reply.log.error({ err: error, source }, 'alert dispatch failed');
    count('error');
    // A 5xx makes the sender retry, which is what we want when our queue is unavailable.
    return reply.code(503).send({ error: 'could not enqueue the alert; retry later' });
  }
  if (aborted.length === 0) {
    count('ignored');
    return reply.code(200).send({ ignored: 'no live release matches the firing alerts', alerts: firing.map((a) => a.name) });
  }
  count('accepted');
  return reply.code(202).send({ aborted, alerts: firing.map((a) => a.name) });
}
