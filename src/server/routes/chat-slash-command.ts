import type { FastifyReply } from 'fastify';
import { chatUserLabel, type ChatChannel } from '../../chatops/chat-request.js';
import type { ChatIntake } from '../../chatops/chat-intake.js';
import { parseSlashCommand } from '../../chatops/schema.js';
import { HELP_TEXT, parseCommand } from '../../core/parse-command.js';
import type { IntakeAudit } from '../../engine/intake-audit.js';
import type { Metrics } from '../../metrics.js';

export interface ChatRouteOptions {
  intake: ChatIntake;
  metrics?: Pick<Metrics, 'webhookDeliveries'>;
  now?: () => number;
  /** Bound on handing the command to the intake (one Redis write) on the request path; default 2 s. */
  submitTimeoutMs?: number;
  /**
   * Origins (`https://chat.example.com`) a `response_url` may point to; the bot posts release
   * details there. Unset: any (Slack's are Slack's own).
   */
  responseOrigins?: readonly string[];
  /** Records the commands refused here (not a command the bot knows): they have no release to be audited on. */
  audit?: Pick<IntakeAudit, 'record'>;
}

/** What Slack and Mattermost both render as a slash command's answer. */
export interface SlashAnswer {
  response_type: 'ephemeral' | 'in_channel';
  text: string;
}

const ephemeral = (text: string): SlashAnswer => ({ response_type: 'ephemeral', text });

/**
 * After the platform's check passed: parse with the one command grammar, answer help and mistakes
 * at once, queue the rest and acknowledge. Nothing slow runs here (Slack gives up after 3 s); the
 * outcome goes to the request's `response_url`.
 */
export async function acceptSlashCommand(
  channel: ChatChannel,
  body: unknown,
  reply: FastifyReply,
  options: ChatRouteOptions,
): Promise<SlashAnswer> {
  const count = (event: string, outcome: string): void => void options.metrics?.webhookDeliveries.inc({ source: channel, event, outcome });
  const request = parseSlashCommand(channel, body, (options.now ?? Date.now)());
  if (!request) {
    count('unknown', 'invalid');
    reply.code(400);
    return ephemeral('canarybot could not read this slash command (user_id and response_url are required).');
  }
  if (options.responseOrigins && !options.responseOrigins.includes(originOf(request.responseUrl))) {
    count('unknown', 'refused');
    reply.code(400);
    return ephemeral('canarybot answers only on the configured chat server; this response_url points elsewhere.');
  }
  const parsed = parseCommand(request.text, { requireService: true });
  if (parsed.kind !== 'command') {
    count('unknown', 'ignored');
    if (parsed.kind === 'invalid' && options.audit) {
      const sentence = parsed.quietMessage.split('\n\n')[0] ?? '';
      // Bounded like the queue write; an audit Redis cannot take does not hold the answer.
      await withTimeout(options.audit.record({ actor: { username: null, channel, chatUser: chatUserLabel(request) }, verb: 'unknown', sentence }), options.submitTimeoutMs ?? 2_000).catch(() => undefined);
    }
    return ephemeral(parsed.kind === 'invalid' ? parsed.quietMessage : HELP_TEXT);
  }
  const verb = parsed.command.verb;
  if (verb === 'help') {
    count(verb, 'accepted');
    return ephemeral(HELP_TEXT);
  }
  try {
    await withTimeout(options.intake.submit(request), options.submitTimeoutMs ?? 2_000);
  } catch {
    count(verb, 'refused');
    return ephemeral('canarybot cannot take commands right now (its queue is unavailable); nothing was changed. Try again in a minute.');
  }
  count(verb, 'accepted');
  const what = ['status', 'list'].includes(verb) ? 'Looking' : 'Working on it';
  return ephemeral(`${what}: \`/canary ${request.text}\` …`);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('intake timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
