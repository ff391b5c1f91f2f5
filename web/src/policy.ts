// Which command buttons a release shows to the signed-in user. The bot decides who may do what
// (GitLab access level, named users and groups: the definition's approvals policy, and whether the
// release's state accepts the command now) and says so in `GET /api/me`; the dashboard only hides
// what the bot would refuse, and the bot checks again when the button is pressed.

import type { BoardRelease } from './api.js';

export type CommandVerb = 'approve' | 'promote' | 'abort' | 'pause' | 'resume' | 'retry' | 'override-freeze';

export interface CommandPermission {
  allowed: boolean;
  applicable: boolean;
  reason?: string;
}

/** `GET /api/me`. */
export interface Me {
  user: { id: number; username: string; name: string };
  releases: Array<{ id: string; state: string; commands: Partial<Record<CommandVerb, CommandPermission>> }>;
}

/** The buttons of the board and release page, in this order. */
export const BUTTONS: CommandVerb[] = ['approve', 'promote', 'override-freeze', 'abort'];

/** What a release waits for when a freeze or deny window holds it (the kinds the core sets). */
const FREEZE_WAITS = new Set(['freeze', 'window']);

/**
 * Buttons for one release: allowed by the policy and applicable now. An answer about another state
 * than the release is in now is stale (the release moved since): no buttons until /api/me is read again.
 * The bot accepts an override at any time; the button shows only while a freeze or window holds the release.
 */
export function visibleButtons(me: Me | null, release: Pick<BoardRelease, 'id' | 'state'> & { wait?: BoardRelease['wait'] }): CommandVerb[] {
  const seen = me?.releases.find((r) => r.id === release.id);
  if (!seen || seen.state !== release.state) return [];
  const held = release.wait != null && FREEZE_WAITS.has(release.wait.kind);
  return BUTTONS.filter((verb) => seen.commands[verb]?.allowed && seen.commands[verb]?.applicable && (verb !== 'override-freeze' || held));
}

/** A fresher answer about some releases (e.g. `GET /api/me?release=<id>`) folded into the one we have. */
export function mergeMe(me: Me | null, fresher: Me): Me {
  if (!me || me.user.id !== fresher.user.id) return fresher;
  const ids = new Set(fresher.releases.map((r) => r.id));
  return { user: fresher.user, releases: [...fresher.releases, ...me.releases.filter((r) => !ids.has(r.id))] };
}
