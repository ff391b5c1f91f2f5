import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One message received by the chat test server. */
export interface ChatPost {
  path: string;
  /** Parsed JSON (or form fields), or the raw text when neither parses. */
  body: unknown;
  headers: IncomingMessage['headers'];
  at: number;
}

export interface ChatServer {
  /** e.g. `http://127.0.0.1:<port>` */
  url: string;
  /** Every POST that was answered 2xx, in arrival order. */
  posts: ChatPost[];
  /** Every POST, including the failed ones. */
  attempts: ChatPost[];
  postsTo(path: string): ChatPost[];
  /** The next `count` POSTs to `path` are answered `status` (default 500) and not recorded in `posts`. */
  failNext(path: string, count: number, status?: number): void;
  /** Every POST to `path` fails with `status` until `heal(path)`. */
  failAlways(path: string, status?: number): void;
  heal(path: string): void;
  /** Delay every answer by `ms` (a slow chat service). */
  setDelay(ms: number): void;
  /** Waits until `predicate(posts)` holds, or throws after `timeoutMs`. */
  waitFor(predicate: (posts: ChatPost[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A stand-in for Slack's and Mattermost's `response_url` and incoming-webhook endpoints: any path
 * accepts a POST (JSON or form body), answers like Slack (`200 ok`) and records it.
 */
export async function startChatServer(): Promise<ChatServer> {
  const posts: ChatPost[] = [];
  const attempts: ChatPost[] = [];
  const failures = new Map<string, { remaining: number; status: number }>();
  let delayMs = 0;

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0]!;
      const post: ChatPost = { path, body: parseBody(Buffer.concat(chunks).toString('utf8'), request.headers['content-type']), headers: request.headers, at: Date.now() };
      const answer = (): void => {
        attempts.push(post);
        if (request.method !== 'POST') {
          response.writeHead(405).end();
          return;
        }
        const failure = failures.get(path);
        if (failure && failure.remaining > 0) {
          failure.remaining -= 1;
          response.writeHead(failure.status, { 'content-type': 'text/plain' }).end('failure injected');
          return;
        }
        posts.push(post);
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    attempts,
    postsTo: (path) => posts.filter((p) => p.path === path),
    failNext: (path, count, status = 500) => void failures.set(path, { remaining: count, status }),
    failAlways: (path, status = 500) => void failures.set(path, { remaining: Number.POSITIVE_INFINITY, status }),
    heal: (path) => void failures.delete(path),
    setDelay: (ms) => {
      delayMs = ms;
    },
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(posts)) {
        if (Date.now() > deadline) throw new Error(`chat server: condition not met within ${timeoutMs} ms; received ${JSON.stringify(posts.map((p) => [p.path, p.body]))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    const form = Object.fromEntries(new URLSearchParams(text));
    if (typeof form.payload === 'string') return parseBody(form.payload, 'application/json');
    return form;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
