import { describe, expect, it } from 'vitest';
import { parseTrainCommand } from './parse-command.js';

describe('parseTrainCommand', () => {
  it.each([
    ['/canary train start bookinfo-lane productpage=v2 reviews=1.4.0', false, { kind: 'train-start', command: { train: 'bookinfo-lane', tags: { productpage: 'v2', reviews: '1.4.0' } } }],
    ['train start bookinfo-lane', true, { kind: 'train-start', command: { train: 'bookinfo-lane', tags: {} } }],
    ['/canary approve', false, { kind: 'none' }],
    ['train start bookinfo-lane', false, { kind: 'none' }],
    ['approve reviews', true, { kind: 'none' }],
    ['/canary train approve bookinfo-lane', false, { kind: 'train-act', command: { verb: 'approve', train: 'bookinfo-lane' } }],
    ['train promote bookinfo-lane', true, { kind: 'train-act', command: { verb: 'promote', train: 'bookinfo-lane' } }],
    ['/canary train abort bookinfo-lane ratings drops the header', false, { kind: 'train-act', command: { verb: 'abort', train: 'bookinfo-lane', reason: 'ratings drops the header' } }],
    ['train status bookinfo-lane', true, { kind: 'train-act', command: { verb: 'status', train: 'bookinfo-lane' } }],
  ] as const)('%s (chat: %s)', (text, requireService, expected) => {
    expect(parseTrainCommand(text, { requireService })).toEqual(expected);
  });

  it.each([
    ['/canary train stop x', 'Unknown train command.'],
    ['/canary train start', 'needs a train name'],
    ['/canary train approve', '`/canary train approve` needs a train name'],
    ['/canary train approve Bad_Name', 'That is not a train name.'],
    ['/canary train promote lane now please', 'takes only the train\'s name'],
    ['/canary train start Bad_Name', 'That is not a train name.'],
    ['/canary train start t reviews', 'member=tag'],
    ['/canary train start t reviews=a=b', 'member=tag'],
    ['/canary train start t reviews=:bad', 'member=tag'],
    ['/canary train start t reviews=v1 reviews=v2', 'reviews is named twice.'],
  ])('refuses %s with a clear sentence', (text, sentence) => {
    const result = parseTrainCommand(text, { requireService: false });
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.message).toContain(sentence);
  });
});
