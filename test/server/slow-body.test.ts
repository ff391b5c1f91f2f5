// A client that sends its body a byte at a time must not hold a connection for minutes: the whole
// request has a read timeout, after which the client gets 408 and the connection is closed.

import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = await buildApp({ logger: false, requestTimeoutMs: 1_000, routes: [(a) => void a.post('/echo', async () => ({ ok: true }))] });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(address).port);
});

afterAll(() => app.close());

describe('request read timeout', () => {
  it('answers 408 and closes a connection whose body trickles in slower than the timeout', async () => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
    const started = Date.now();
    socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n');
    // One byte every 200 ms: the 10 s idle timeout never fires, only the read timeout can stop it.
    const trickle = setInterval(() => socket.writable && socket.write('1'), 200);
    const closedAt = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 8_000))]);
    clearInterval(trickle);
    socket.destroy();

    console.info(`slow body: connection closed after ${closedAt < 0 ? 'more than 8000' : closedAt - started} ms (request timeout 1000 ms)`);
    expect(closedAt).toBeGreaterThan(0);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 15_000);
});
