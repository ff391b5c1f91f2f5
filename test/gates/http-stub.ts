import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type StubHandler = (request: StubRequest) => { status: number; body: string; delayMs?: number; contentType?: string };

export interface HttpStub {
  url: string;
  requests: StubRequest[];
  handle(handler: StubHandler): void;
  close(): Promise<void>;
}

/** A real HTTP server whose answers the test sets; every request is recorded. */
export async function startHttpStub(): Promise<HttpStub> {
  const requests: StubRequest[] = [];
  let handler: StubHandler = () => ({ status: 500, body: 'no handler set' });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      const answer = handler(request);
      const send = (): void => {
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' }).end(answer.body);
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle: (h) => {
      handler = h;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
