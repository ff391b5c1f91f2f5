// POST /webhooks/gitlab: verify (token before the body is read, then the optional Standard Webhooks
// signature over the raw bytes), classify, deduplicate and enqueue in one Redis round trip (the intake
// inbox), answer. Nothing slow happens here: no GitLab call, no BullMQ call; the intake forwarder moves
// the inbox into the `gitlab-intake` queue and the intake worker does the rest.

import { hash } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Definition } from '../../core/definition.js';
import { classifyDelivery } from '../../gitlab/classify-delivery.js';
import { intakeJobId, type IntakeInbox } from '../../gitlab/intake-inbox.js';
import { secretChecker } from '../../secrets/secrets-equal.js';
import { SIGNATURE_TOLERANCE_MS, signingKey, verifyWebhookSignature } from '../../gitlab/verify-webhook-signature.js';
import type { Metrics } from '../../metrics.js';
import type { RouteModule } from '../app.js';

export interface GitLabWebhookRouteOptions {
  /** GITLAB_WEBHOOK_SECRET: `X-Gitlab-Token` must equal it. */
  secret: string;
  /** GITLAB_WEBHOOK_SIGNING_SECRET (`whsec_<base64>`): when set, a valid `webhook-signature` header is required. */
  signingSecret?: string;
  /** The loaded definitions; a function when they can be reloaded. */
  definitions: readonly Definition[] | (() => readonly Definition[]);
  /**
   * The bot's GitLab username (GET /user): its own notes are ignored. A function when it is asked in
   * the background; while it returns null, MR comments are answered 503 so GitLab redelivers them.
   */
  botUsername: string | (() => string | null);
  /** The inbox of the `gitlab-intake` queue (createIntakeInbox): dedupe key and job in one round trip. */
  inbox: IntakeInbox;
  /** Prefix of the delivery dedupe keys (default `canarybot:gitlab-delivery:`). */
  dedupePrefix?: string;
  /** How long a delivery id is remembered (default 24 h). */
  dedupeTtlSeconds?: number;
  metrics?: Metrics;
  /** Clock for the signature window (default Date.now). */
  now?: () => number;
  signatureToleranceMs?: number;
}

const ACCEPTED_RESPONSE = {
  type: 'object',
  properties: { accepted: { type: 'boolean' }, job: { type: 'string' } },
  required: ['accepted', 'job'],
} as const;

type Outcome = 'accepted' | 'ignored' | 'duplicate' | 'refused' | 'invalid' | 'unavailable';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === '' ? undefined : first;
}

export function gitlabWebhookRoute(options: GitLabWebhookRouteOptions): RouteModule {
  if (!options.secret) throw new Error('GITLAB_WEBHOOK_SECRET is required for POST /webhooks/gitlab');
  if (!options.botUsername) throw new Error('gitlabWebhookRoute: botUsername is required (GET /user of GITLAB_TOKEN)');
  const botUsername = typeof options.botUsername === 'function' ? options.botUsername : () => options.botUsername as string;
  const key = options.signingSecret ? signingKey(options.signingSecret) : null;
  if (key && key.length === 0) throw new Error('GITLAB_WEBHOOK_SIGNING_SECRET is empty after its whsec_ prefix');
  const definitions = typeof options.definitions === 'function' ? options.definitions : () => options.definitions as readonly Definition[];
  const dedupePrefix = options.dedupePrefix ?? 'canarybot:gitlab-delivery:';
  const ttl = options.dedupeTtlSeconds ?? 24 * 3600;
  const now = options.now ?? Date.now;
  const tolerance = options.signatureToleranceMs ?? SIGNATURE_TOLERANCE_MS;
  const record = (event: string, outcome: Outcome): void => {
    options.metrics?.webhookDeliveries.inc({ source: 'gitlab', event, outcome });
  };

  const tokenIsValid = secretChecker(options.secret);
  // Callback style, not async: the hook runs on every delivery and a promise per request is measurable.
  const checkToken = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (tokenIsValid(header(request, 'x-gitlab-token'))) return done();
    record('unknown', 'refused');
    request.log.warn({ ip: request.ip }, 'gitlab webhook refused: token');
    // Answered here: done() is not called, so neither the body nor the handler is reached.
    void reply.code(401).send({ error: 'invalid or missing X-Gitlab-Token' });
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    // With a signing secret the signature is required: the token alone is not enough.
    let signedId: string | undefined;
    if (key) {
      const signature = header(request, 'webhook-signature');
      const verdict =
        signature === undefined
          ? { ok: false as const, reason: 'webhook-signature is required (a signing secret is configured)' }
          : verifyWebhookSignature(
              { id: header(request, 'webhook-id'), timestamp: header(request, 'webhook-timestamp'), signature, body: request.rawBody ?? Buffer.alloc(0) },
              key,
              now(),
              tolerance,
            );
      if (!verdict.ok) {
        record('unknown', 'refused');
        request.log.warn({ reason: verdict.reason }, 'gitlab webhook refused: signature');
        return reply.code(401).send({ error: verdict.reason });
      }
      signedId = header(request, 'webhook-id');
    }

    const username = botUsername();
    // Unknown yet, no username matches: a note accepted below is refused 503 before it is enqueued.
    const result = classifyDelivery(request.body, { definitions: definitions(), botUsername: username ?? '' });
    if (result.outcome === 'invalid') {
      record(result.event, 'invalid');
      return reply.code(400).send({ error: result.message });
    }
    if (result.outcome === 'ignored') {
      record(result.event, 'ignored');
      request.log.debug({ event: result.event, reason: result.reason }, 'gitlab webhook ignored');
      return reply.code(200).send({ ignored: result.reason });
    }

    // A signed delivery is known by its signed webhook-id (the same on GitLab's retries), so a replay
    // of it within the signature window is a duplicate whatever unsigned headers it changes.
    if (username === null && result.job.kind === 'note') {
      record(result.event, 'unavailable');
      return reply.code(503).send({ error: "the bot's GitLab identity is not known yet (GitLab did not answer GET /user); retry later" });
    }

    const deliveryId = signedId !== undefined ? `webhook-id:${signedId}` : (header(request, 'idempotency-key') ?? header(request, 'x-gitlab-webhook-uuid') ?? result.contentKey);
    const deliveryHash = hash('sha256', deliveryId);
    const job = intakeJobId(deliveryHash);
    let fresh: boolean;
    try {
      fresh = await options.inbox.accept(dedupePrefix + deliveryHash, ttl, { id: job, job: result.job });
    } catch (error) {
      // A failed call marks no delivery as seen (the inbox script pushes before it marks), so
      // GitLab's retry is not taken for a duplicate.
      record(result.event, 'unavailable');
      request.log.error({ err: error }, 'gitlab webhook not enqueued: redis unavailable');
      return reply.code(503).send({ error: 'queue unavailable, retry later' });
    }
    if (!fresh) {
      record(result.event, 'duplicate');
      return reply.code(200).send({ ignored: 'duplicate delivery' });
    }
    record(result.event, 'accepted');
    // Debug, not info: this is the hot path, and every accepted delivery is counted in
    // canarybot_webhook_deliveries_total and logged at info under the same job id once processed.
    request.log.debug({ event: result.event, job }, 'gitlab webhook accepted');
    return reply.code(202).send({ accepted: true, job });
  };

  return (app) => {
    app.post('/webhooks/gitlab', {
      // A compiled serializer for the hot answer; the others are rare and go through JSON.stringify.
      schema: { response: { 202: ACCEPTED_RESPONSE } },
      onRequest: checkToken,
      // Parser errors (malformed JSON 400, body too large 413) never reach the handler.
      onError: async (_request, reply) => {
        if (reply.statusCode < 500) record('unknown', 'invalid');
      },
      handler: handle,
    });
  };
}
