import { secretsEqual } from '../secrets/secrets-equal.js';

/**
 * Mattermost sends the slash command's token both as `Authorization: Token <t>` and as the `token`
 * form field; either must equal the configured token.
 */
export function verifyMattermostToken(expected: string, authorization: string | undefined, bodyToken: unknown): boolean {
  if (!expected) return false;
  const fromHeader = /^Token\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  const presented = fromHeader ?? (typeof bodyToken === 'string' ? bodyToken : undefined);
  if (!presented) return false;
  return secretsEqual(presented, expected);
}
