// A `fetch` that trusts an extra CA (PROMETHEUS_CA_FILE, ALERTMANAGER_CA_FILE): Node's global fetch
// takes no CA option without the undici package, so requests go through node:https with `ca`, and
// the answer comes back as a standard Response.

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export function fetchTrusting(ca: string): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init.headers);
      const body = typeof init.body === 'string' ? init.body : init.body === undefined || init.body === null ? undefined : String(init.body);
      if (body !== undefined) headers.set('content-length', String(Buffer.byteLength(body)));
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        { method: init.method ?? 'GET', headers: Object.fromEntries(headers.entries()), ...(url.protocol === 'https:' ? { ca } : {}), signal: init.signal ?? undefined },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const answer = new Headers();
            for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') answer.set(name, value);
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: answer }));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}
