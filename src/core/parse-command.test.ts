import { describe, expect, it } from 'vitest';
import { HELP_TEXT, parseCommand } from './parse-command.js';

const mr = { requireService: false };
const chat = { requireService: true };

describe('parseCommand in MR comments', () => {
  it.each([
    ['plain text', 'LGTM, ship it'],
    ['GitLab quick action', '/approve'],
    ['another bot', '/atlantis plan'],
    ['prefix glued to a word', '/canaryapprove'],
    ['command on the second line only', 'looks good\n/canary approve'],
    ['empty', ''],
    ['quoted command', '> /canary approve'],
  ])('ignores %s', (_name, text) => {
    expect(parseCommand(text, mr)).toEqual({ kind: 'none' });
  });

  it.each([
    ['/canary approve', { verb: 'approve' }],
    ['/canary promote', { verb: 'promote' }],
    ['/canary pause', { verb: 'pause' }],
    ['/canary resume', { verb: 'resume' }],
    ['/canary retry', { verb: 'retry' }],
    ['/canary status', { verb: 'status' }],
    ['/canary list', { verb: 'list' }],
    ['/canary help', { verb: 'help' }],
    ['/canary abort', { verb: 'abort' }],
    ['/CANARY Approve', { verb: 'approve' }],
    ['   /canary    approve   ', { verb: 'approve' }],
    ['/canary approve\nthanks, looks good', { verb: 'approve' }],
    ['/canary abort p99 doubled  in eu-west', { verb: 'abort', reason: 'p99 doubled  in eu-west' }],
    ['/canary\tabort\tbad', { verb: 'abort', reason: 'bad' }],
    ['/canary approve\r\nsecond line', { verb: 'approve' }],
  ])('parses %j', (text, command) => {
    expect(parseCommand(text, mr)).toEqual({ kind: 'command', command });
  });

  it.each([
    ['/canary', 'missing'],
    ['/canary deploy', 'Unknown command "deploy"'],
    ['/canary approv', 'Unknown command "approv"'],
    ['/canary approve step 3', '`/canary approve` takes no further arguments'],
    ['/canary status reviews', '`/canary status` takes no further arguments'],
    ['/canary retry now please', '`/canary retry` takes no further arguments'],
  ])('refuses %j with the help text', (text, problem) => {
    const result = parseCommand(text, mr);

    expect(result.kind).toBe('invalid');
    if (result.kind !== 'invalid') return;
    expect(result.message).toContain(problem);
    expect(result.message).toContain(HELP_TEXT);
  });
});

describe('parseCommand in chat', () => {
  it.each([
    ['approve reviews', { verb: 'approve', service: 'reviews' }],
    ['/canary approve reviews', { verb: 'approve', service: 'reviews' }],
    ['PROMOTE bookinfo/reviews', { verb: 'promote', service: 'bookinfo/reviews' }],
    ['abort eu-1/bookinfo/reviews', { verb: 'abort', service: 'eu-1/bookinfo/reviews' }],
    ['abort reviews error budget burnt  twice', { verb: 'abort', service: 'reviews', reason: 'error budget burnt  twice' }],
    ['status', { verb: 'status' }],
    ['status reviews', { verb: 'status', service: 'reviews' }],
    ['list', { verb: 'list' }],
    ['help', { verb: 'help' }],
    ['', { verb: 'help' }],
    ['/canary', { verb: 'help' }],
  ])('parses %j', (text, command) => {
    expect(parseCommand(text, chat)).toEqual({ kind: 'command', command });
  });

  it.each([
    ['approve', 'needs a service'],
    ['retry', 'needs a service'],
    ['launch reviews', 'Unknown command "launch"'],
    ['approve reviews now', '`/canary approve` takes no further arguments'],
    ['status reviews extra', '`/canary status` takes no further arguments'],
    ['approve ../../etc', 'is not a service name'],
    ['approve a/b/c/d', 'is not a service name'],
  ])('refuses %j with the help text', (text, problem) => {
    const result = parseCommand(text, chat);

    expect(result.kind).toBe('invalid');
    if (result.kind !== 'invalid') return;
    expect(result.message).toContain(problem);
    expect(result.message).toContain(HELP_TEXT);
  });
});

describe('HELP_TEXT', () => {
  it('lists every verb', () => {
    for (const verb of ['approve', 'promote', 'abort', 'pause', 'resume', 'retry', 'status', 'list', 'help']) {
      expect(HELP_TEXT).toMatch(new RegExp(`^  ${verb}\\b`, 'm'));
    }
  });
});
