import type { InjectOptions } from 'fastify';
import { slackSignature } from '../../src/chatops/verify-slack-signature.js';

export interface SlashFields {
  user_id: string;
  user_name?: string;
  text: string;
  response_url: string;
  [field: string]: string | undefined;
}

function form(fields: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) params.set(key, value);
  return params.toString();
}

/** A Slack slash command as Slack sends it, signed with `secret` at `timestamp` (epoch seconds). */
export function slackSlash(
  secret: string,
  fields: SlashFields,
  options: { timestamp?: number; omit?: ('signature' | 'timestamp')[]; signature?: string } = {},
): InjectOptions {
  const payload = form({ token: 'deprecated-verification-token', team_id: 'T1', channel_id: 'C1', command: '/canary', ...fields });
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (!options.omit?.includes('timestamp')) headers['x-slack-request-timestamp'] = timestamp;
  if (!options.omit?.includes('signature')) headers['x-slack-signature'] = options.signature ?? slackSignature(secret, timestamp, payload);
  return { method: 'POST', url: '/chatops/slack', headers, payload };
}

/** A Mattermost slash command as Mattermost sends it: the token in the header and in the body. */
export function mattermostSlash(token: string | null, fields: SlashFields, options: { via?: 'header' | 'field' | 'both' } = {}): InjectOptions {
  const via = options.via ?? 'both';
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (token !== null && via !== 'field') headers.authorization = `Token ${token}`;
  const payload = form({ channel_id: 'mm-channel', team_id: 'mm-team', command: '/canary', ...fields, token: token !== null && via !== 'header' ? token : undefined });
  return { method: 'POST', url: '/chatops/mattermost', headers, payload };
}
