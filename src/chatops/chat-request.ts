export type ChatChannel = 'slack' | 'mattermost';

/** A slash command after its platform's vocabulary has been translated at the route. */
export interface ChatRequest {
  channel: ChatChannel;
  /** Slack `user_id` (U…) / Mattermost `user_id`. */
  userId: string;
  /** Slack `user_name` (deprecated by Slack, may be absent) / Mattermost `user_name`. */
  userName?: string;
  /** Only when the adapter knows it (neither platform's slash command payload carries it). */
  email?: string;
  /** What followed the slash command, e.g. `approve reviews`. */
  text: string;
  responseUrl: string;
  channelId?: string;
  teamId?: string;
  receivedAt: number;
}

/** How the audit trail names a chat user: `name (id)`, or the id alone. */
export function chatUserLabel(request: Pick<ChatRequest, 'userId' | 'userName'>): string {
  return request.userName ? `${request.userName} (${request.userId})` : request.userId;
}
