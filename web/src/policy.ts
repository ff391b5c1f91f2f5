// Which command buttons a release shows to the signed-in user. The bot decides who may do what
// (GitLab access level, named users and groups: the definition's approvals policy) and says so in
// `GET /api/me`; the dashboard only hides what the bot would refuse, and the bot checks again.

import type { BoardRelease } from './api.js';

export type CommandVerb = 'approve' | 'promote' | 'abort' | 'pause' | 'resume' | 'retry';

export interface Me {
  username: string;
  name?: string;
  avatarUrl?: string | null;
  /** Verbs the user may send, per service (pipeline definition name). */
  commands?: Record<string, CommandVerb[]>;
}

/** The buttons of the board and release page, in this order. */
export const BUTTONS: CommandVerb[] = ['approve', 'promote', 'abort'];

/** Verbs that make sense in the release's state, whoever asks. */
function fitsState(verb: CommandVerb, release: Pick<BoardRelease, 'state'>): boolean {
  switch (verb) {
    case 'approve':
      return release.state === 'awaiting-approval';
    case 'promote':
      return ['progressing', 'paused', 'awaiting-approval'].includes(release.state);
    case 'abort':
      return ['pending', 'deploying', 'progressing', 'paused', 'awaiting-approval', 'promoting'].includes(release.state);
    case 'pause':
      return release.state === 'progressing';
    case 'resume':
      return release.state === 'paused';
    case 'retry':
      return ['rolled-back', 'failed', 'aborted'].includes(release.state);
  }
}

export function visibleButtons(me: Me | null, release: Pick<BoardRelease, 'state' | 'definition'>): CommandVerb[] {
  const allowed = me?.commands?.[release.definition] ?? [];
  return BUTTONS.filter((verb) => allowed.includes(verb) && fitsState(verb, release));
}
