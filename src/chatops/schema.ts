import { z } from 'zod';
import type { ChatChannel, ChatRequest } from './chat-request.js';

// Only the fields canarybot uses; both platforms send more.
const slashCommand = z.object({
  user_id: z.string().min(1).max(200),
  user_name: z.string().max(200).optional(),
  text: z.string().max(4000).default(''),
  response_url: z.url({ protocol: /^https?$/ }),
  channel_id: z.string().max(200).optional(),
  team_id: z.string().max(200).optional(),
});

/** Slack and Mattermost send the same field names for what canarybot reads. */
export const slashCommandSchema = slashCommand;

export type SlashCommandPayload = z.infer<typeof slashCommand>;

/** The platform's slash-command body as a ChatRequest, or null when a required field is missing. */
export function parseSlashCommand(channel: ChatChannel, body: unknown, receivedAt: number): ChatRequest | null {
  const result = slashCommand.safeParse(body);
  return result.success ? toChatRequest(channel, result.data, receivedAt) : null;
}

function toChatRequest(channel: ChatChannel, payload: SlashCommandPayload, receivedAt: number): ChatRequest {
  return {
    channel,
    userId: payload.user_id,
    ...(payload.user_name ? { userName: payload.user_name } : {}),
    text: payload.text.trim(),
    responseUrl: payload.response_url,
    ...(payload.channel_id ? { channelId: payload.channel_id } : {}),
    ...(payload.team_id ? { teamId: payload.team_id } : {}),
    receivedAt,
  };
}
