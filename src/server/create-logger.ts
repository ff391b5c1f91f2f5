// The bot's one pino logger: JSON lines, LOG_LEVEL, and secrets kept out at the logger itself —
// known header and field names are redacted by path, and every configured secret value is masked
// wherever it appears in the serialized line (messages, error stacks, nested fields alike).

import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export const MASK = '[redacted]';

/** Header and field names whose values are never logged, whatever they hold. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-gitlab-token"]',
  'req.headers["private-token"]',
  'req.headers["x-slack-signature"]',
  'req.headers["webhook-signature"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-gitlab-token"]',
  'headers["private-token"]',
  'authorization',
  'token',
  'secret',
  'password',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
];

export interface LoggerOptions {
  level: LogLevel;
  /** Every secret value of the configuration (secretValues(config)). */
  secrets: readonly string[];
  /** Where the JSON lines go (default stdout). */
  destination?: { write(line: string): unknown };
}

/** Replaces every occurrence of each secret, raw or JSON-escaped, by MASK. Longest first, so a secret containing another is masked whole. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secretForms(secrets)) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

export function createLogger(options: LoggerOptions): Logger {
  const target = options.destination ?? process.stdout;
  const secrets = secretForms(options.secrets);
  const stream: DestinationStream = {
    write: (line: string) => {
      target.write(secrets.length > 0 ? maskSecrets(line, secrets) : line);
    },
  };
  return pino(
    {
      level: options.level,
      base: { name: 'canarybot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: MASK },
    },
    stream,
  );
}
