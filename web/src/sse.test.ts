import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.js';

describe('SseParser', () => {
  it('parses events split anywhere across chunks, with comments, CRLF and multi-line data', () => {
    const parser = new SseParser();
    const text = 'retry: 2000\n\n: ping\n\nevent: snapshot\ndata: {"a":\ndata: 1}\n\nevent: release\r\ndata:{"id":"x"}\r\n\r\ndata: plain\n\n';
    const events = [];
    for (let i = 0; i < text.length; i += 7) events.push(...parser.feed(text.slice(i, i + 7)));

    expect(events).toEqual([
      { event: 'snapshot', data: '{"a":\n1}' },
      { event: 'release', data: '{"id":"x"}' },
      { event: 'message', data: 'plain' },
    ]);
    expect(parser.retryMs).toBe(2000);
  });

  it('keeps an unfinished event until its blank line, and ignores a bad retry', () => {
    const parser = new SseParser();

    expect(parser.feed('retry: soon\nevent: release\ndata: 1\n')).toEqual([]);
    expect(parser.feed('\n')).toEqual([{ event: 'release', data: '1' }]);
    expect(parser.retryMs).toBeNull();
  });
});
