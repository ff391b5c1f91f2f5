import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { GitLabApi, GitLabUser } from '../gitlab/gitlab-api.js';
import type { ChatChannel, ChatRequest } from './chat-request.js';

/** CHAT_USERS_FILE: chat user → GitLab username, per platform. */
export interface ChatUsersMapping {
  /** Slack user id (`U…`/`W…`) → GitLab username. */
  slack: Record<string, string>;
  /** Mattermost user id or username → GitLab username. */
  mattermost: Record<string, string>;
}

const gitlabUsername = z.string().trim().min(1).transform((u) => u.replace(/^@/, ''));
const mappingSchema = z
  .object({
    slack: z.record(z.string().min(1), gitlabUsername).nullish(),
    mattermost: z.record(z.string().min(1), gitlabUsername).nullish(),
  })
  .strict();

/** Parses the mapping file; a malformed file is one clear line naming the file and field. */
export function parseChatUsers(text: string, file = 'CHAT_USERS_FILE'): ChatUsersMapping {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new Error(`${file}: not valid YAML (${error instanceof Error ? error.message.split('\n')[0] : 'parse error'})`);
  }
  const result = mappingSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'} (expected "slack: { U123: alice }" / "mattermost: { name: alice }")`);
  }
  return { slack: { ...result.data.slack }, mattermost: { ...result.data.mattermost } };
}

export async function loadChatUsers(file: string): Promise<ChatUsersMapping> {
  return parseChatUsers(await readFile(file, 'utf8'), file);
}

export type IdentityResult =
  | { kind: 'mapped'; user: GitLabUser; via: 'mapping' | 'email' }
  /** `message` tells the user how to get mapped (or why the mapping does not hold). */
  | { kind: 'unmapped'; message: string };

export interface IdentityResolverOptions {
  mapping?: ChatUsersMapping;
  gitlab: Pick<GitLabApi, 'userByUsername' | 'usersByEmail'>;
  /** CHAT_LOOKUP_BY_EMAIL: look the chat user's e-mail up in GitLab's users API when not in the mapping. */
  lookupByEmail?: boolean;
  /**
   * The chat user's e-mail when the request does not carry it. Slack slash commands carry only
   * `user_id`: pass `createSlackEmailLookup(…)` (users.info, scope `users:read.email`). Mattermost's
   * payload has no e-mail either; without a lookup, Mattermost users need the mapping file.
   */
  emailOf?: (request: ChatRequest) => Promise<string | null>;
}

export interface IdentityResolver {
  resolve(request: ChatRequest): Promise<IdentityResult>;
}

/**
 * Chat user → verified GitLab user. The mapping file is the primary path (trusted configuration,
 * reviewed like the pipelines); e-mail lookup is opt-in because it trusts the chat workspace's
 * e-mail addresses. GitLab errors (outage) propagate: the caller answers "try again".
 */
export function createIdentityResolver(options: IdentityResolverOptions): IdentityResolver {
  const mapping = options.mapping ?? { slack: {}, mattermost: {} };
  return {
    async resolve(request) {
      const mapped = mappedUsername(mapping, request);
      if (mapped) {
        const user = await options.gitlab.userByUsername(mapped);
        if (!user) return { kind: 'unmapped', message: `You are mapped to GitLab user @${mapped}, who does not exist in GitLab; ask the canarybot admins to fix CHAT_USERS_FILE.` };
        if (user.state !== 'active') return { kind: 'unmapped', message: `GitLab user @${user.username} is ${user.state}.` };
        return { kind: 'mapped', user, via: 'mapping' };
      }
      if (options.lookupByEmail) {
        const email = request.email ?? (options.emailOf ? await options.emailOf(request) : null);
        if (email) {
          const users = (await options.gitlab.usersByEmail(email)).filter((u) => u.state === 'active');
          if (users.length === 1) return { kind: 'mapped', user: users[0]!, via: 'email' };
        }
      }
      return { kind: 'unmapped', message: howToGetMapped(request.channel, request, options.lookupByEmail === true) };
    },
  };
}

function mappedUsername(mapping: ChatUsersMapping, request: ChatRequest): string | undefined {
  const table = mapping[request.channel];
  if (Object.hasOwn(table, request.userId)) return table[request.userId];
  // Mattermost entries may name the user by username; Slack user names are not stable identifiers.
  if (request.channel === 'mattermost' && request.userName && Object.hasOwn(table, request.userName)) return table[request.userName];
  return undefined;
}

function howToGetMapped(channel: ChatChannel, request: ChatRequest, byEmail: boolean): string {
  const key = channel === 'slack' ? request.userId : (request.userName ?? request.userId);
  const email = byEmail ? ' (or make your GitLab e-mail the same as your chat e-mail)' : '';
  return `Your ${channel} user ${key} is not mapped to a GitLab user, so you can read releases but not change them. Ask the canarybot admins to add \`${channel}: { ${key}: <gitlab-username> }\` to CHAT_USERS_FILE${email}.`;
}
