// One grammar for `/canary` commands in MR comments and chat slash commands (Atlantis-style: a closed
// table of verbs; anything else is ignored or answered with the help text).

import { COMMAND_VERBS } from './command.js';
import type { CommandVerb, ParsedCommand } from './command.js';

export type ParseResult =
  | { kind: 'none' }
  | { kind: 'command'; command: ParsedCommand }
  /** `quietMessage`: the same without anything the user typed, for places that must not echo it (chat). */
  | { kind: 'invalid'; message: string; quietMessage: string };

export interface ParseOptions {
  /** Chat: the service is named after the verb (`approve reviews`). MR comments: the MR names it. */
  requireService: boolean;
}

export const HELP_TEXT = [
  'Usage:',
  '  /canary <command> [reason]              in a merge request comment (first line)',
  '  /canary <command> <service> [reason]    in chat',
  '',
  'Commands:',
  '  approve          pass the approval step the release is waiting on',
  '  promote          skip the remaining steps and promote (refused while an analysis is failing)',
  '  abort [reason]   roll back to 100 % stable now',
  '  pause            hold the release at its current step',
  '  resume           continue a paused release',
  '  retry            run a rolled-back, failed or aborted release again with the same image',
  '  status           show the release: state, step, weights, gates',
  '  list             list the live releases',
  '  help             show this help',
  '  train start <train> [member=tag …]   start a release train (members without a tag ride on stable)',
  '',
  'Services are named `service`, `namespace/service` or `cluster/namespace/service`.',
].join('\n');

const PREFIX = /^\/canary(?=\s|$)/i;
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*){0,2}$/;
/** Verbs whose service is optional in chat (they read, or answer for every service). */
const OPTIONAL_SERVICE: ReadonlySet<CommandVerb> = new Set(['status', 'list', 'help']);

function isVerb(word: string): word is CommandVerb {
  return (COMMAND_VERBS as readonly string[]).includes(word);
}

function invalid(problem: string, quietProblem = problem): ParseResult {
  return { kind: 'invalid', message: `${problem}\n\n${HELP_TEXT}`, quietMessage: `${quietProblem}\n\n${HELP_TEXT}` };
}

/** Splits off the first whitespace-separated word; the rest keeps its inner spacing. */
function firstWord(text: string): [string, string] {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text);
  return match ? [match[1] ?? '', (match[2] ?? '').trim()] : ['', ''];
}

function parseAfterVerb(verb: CommandVerb, rest: string, requireService: boolean): ParseResult {
  const command: ParsedCommand = { verb };
  let args = rest;
  if (requireService) {
    const [service, after] = firstWord(args);
    if (service === '') {
      if (OPTIONAL_SERVICE.has(verb)) return { kind: 'command', command };
      return invalid(`\`/canary ${verb}\` needs a service: \`/canary ${verb} <service>\`.`);
    }
    if (!SERVICE.test(service)) return invalid(`"${service}" is not a service name.`, 'That is not a service name.');
    command.service = service;
    args = after;
  }
  if (verb === 'override-freeze' && args === '') return invalid('`/canary override-freeze` needs a reason: `/canary override-freeze <reason>` (it is audited).');
  if (args === '') return { kind: 'command', command };
  if (verb === 'abort') return { kind: 'command', command: { ...command, reason: args } };
  if (verb === 'override-freeze') return { kind: 'command', command: { ...command, reason: args } };
  return invalid(`\`/canary ${verb}\` takes no further arguments (got "${args}").`, `\`/canary ${verb}\` takes no further arguments.`);
}

/**
 * Parses the first line of an MR comment or a chat slash command's text. A comment that does not
 * start with `/canary` (GitLab's own quick actions such as `/approve` included) is `none`; in chat
 * the leading `/canary` is optional because the slash command already names the bot.
 */
export function parseCommand(text: string, options: ParseOptions): ParseResult {
  const firstLine = (text.split(/\r?\n/, 1)[0] ?? '').trim();
  let body: string;
  if (PREFIX.test(firstLine)) body = firstLine.replace(PREFIX, '').trim();
  else if (options.requireService) body = firstLine;
  else return { kind: 'none' };

  const [word, rest] = firstWord(body);
  if (word === '') {
    // A bare `/canary` in chat is the usual way to ask for help.
    if (options.requireService) return { kind: 'command', command: { verb: 'help' } };
    return invalid('A command is missing after `/canary`.');
  }
  const verb = word.toLowerCase();
  if (!isVerb(verb)) return invalid(`Unknown command "${word}".`, 'Unknown command.');
  return parseAfterVerb(verb, rest, options.requireService);
}

export interface TrainStartCommand {
  train: string;
  /** Member name → image tag; members not named ride along on stable. */
  tags: Record<string, string>;
}

export const TRAIN_ACT_VERBS = ['approve', 'abort', 'promote', 'status'] as const;
export type TrainActVerb = (typeof TRAIN_ACT_VERBS)[number];

/** `/canary train approve|abort|promote|status <train> [reason…]`: the train's live run, as one unit. */
export interface TrainActCommand {
  verb: TrainActVerb;
  train: string;
  reason?: string;
}

export type TrainParseResult =
  | { kind: 'none' }
  | { kind: 'train-start'; command: TrainStartCommand }
  | { kind: 'train-act'; command: TrainActCommand }
  | { kind: 'invalid'; message: string };

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** A Docker image tag (the distribution spec's grammar). */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const TRAIN_USAGE = 'Usage: `/canary train start <train> [member=tag …]` or `/canary train approve|abort|promote|status <train>`';

/**
 * `/canary train start <train> [member=tag …]` on the first line (the `/canary` optional in chat).
 * Anything that is not a `train` command is `none`, so the release grammar above answers it.
 */
export function parseTrainCommand(text: string, options: ParseOptions): TrainParseResult {
  const firstLine = (text.split(/\r?\n/, 1)[0] ?? '').trim();
  let body: string;
  if (PREFIX.test(firstLine)) body = firstLine.replace(PREFIX, '').trim();
  else if (options.requireService) body = firstLine;
  else return { kind: 'none' };
  const words = body.split(/\s+/).filter((word) => word !== '');
  if (words[0]?.toLowerCase() !== 'train') return { kind: 'none' };
  const verb = words[1]?.toLowerCase();
  if ((TRAIN_ACT_VERBS as readonly string[]).includes(verb ?? '')) return parseTrainAct(verb as TrainActVerb, words.slice(2));
  if (verb !== 'start') return { kind: 'invalid', message: `Unknown train command. ${TRAIN_USAGE}.` };
  const train = words[2];
  if (!train) return { kind: 'invalid', message: `\`/canary train start\` needs a train name. ${TRAIN_USAGE}.` };
  if (!NAME.test(train)) return { kind: 'invalid', message: `That is not a train name. ${TRAIN_USAGE}.` };
  const tags: Record<string, string> = {};
  for (const word of words.slice(3)) {
    const [member, tag, extra] = word.split('=');
    if (extra !== undefined || !member || !tag || !NAME.test(member) || !TAG.test(tag)) {
      return { kind: 'invalid', message: `Each member is named as \`member=tag\` (a lowercase name and an image tag). ${TRAIN_USAGE}.` };
    }
    if (tags[member] !== undefined) return { kind: 'invalid', message: `${member} is named twice. ${TRAIN_USAGE}.` };
    tags[member] = tag;
  }
  return { kind: 'train-start', command: { train, tags } };
}

function parseTrainAct(verb: TrainActVerb, words: string[]): TrainParseResult {
  const train = words[0];
  if (!train) return { kind: 'invalid', message: `\`/canary train ${verb}\` needs a train name. ${TRAIN_USAGE}.` };
  if (!NAME.test(train)) return { kind: 'invalid', message: `That is not a train name. ${TRAIN_USAGE}.` };
  const reason = words.slice(1).join(' ');
  if (reason !== '' && verb !== 'abort') return { kind: 'invalid', message: `\`/canary train ${verb}\` takes only the train's name. ${TRAIN_USAGE}.` };
  return { kind: 'train-act', command: reason === '' ? { verb, train } : { verb, train, reason: reason.slice(0, 500) } };
}
