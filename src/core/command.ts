/** The verbs a release manager can use, in MR comments and chat alike. */
export const COMMAND_VERBS = [
  'approve',
  'promote',
  'abort',
  'pause',
  'resume',
  'retry',
  'override-freeze',
  'status',
  'list',
  'help',
] as const;
export type CommandVerb = (typeof COMMAND_VERBS)[number];

/** Verbs that change a release (and therefore need authorization). */
export type ActingVerb = 'approve' | 'promote' | 'abort' | 'pause' | 'resume' | 'retry' | 'override-freeze';

export interface ParsedCommand {
  verb: CommandVerb;
  /** Chat only: `reviews` or a qualified `bookinfo/reviews` / `cluster/bookinfo/reviews`. */
  service?: string;
  /** Free text after the verb (abort reason). */
  reason?: string;
}
