// A parser of the text/event-stream format (HTML Living Standard, "Server-sent events"): fields
// `event`, `data` (joined by newlines), `retry`; comment lines start with a colon. Fed chunks as
// they arrive; a line may be split across chunks.

export interface SseEvent {
  event: string;
  data: string;
}

export class SseParser {
  /** The last `retry:` the server sent, in milliseconds. */
  retryMs: number | null = null;
  private partial = '';
  private event = '';
  private data: string[] = [];

  feed(chunk: string): SseEvent[] {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const events: SseEvent[] = [];
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') {
        if (this.data.length > 0) events.push({ event: this.event || 'message', data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    }
    return events;
  }
}
