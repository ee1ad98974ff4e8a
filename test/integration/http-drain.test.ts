import net from 'node:net';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';

/**
 * server.stop() (what SIGTERM runs): stops accepting, answers every request
 * it had begun to receive, closes idle keep-alive sockets, refuses what comes
 * later on a kept-alive socket, and gives up after the grace period. Raw
 * sockets, so the test controls exactly which bytes the server had read.
 */
const BODY = JSON.stringify({ query: '{ me { name } }' });

function head(port: number, body = BODY): string {
  return [
    'POST /graphql HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Content-Type: application/json',
    `Authorization: Bearer ${ADMIN_TOKEN}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    '',
  ].join('\r\n');
}

interface RawClient {
  socket: net.Socket;
  received(): string;
  /** Everything received until the server closed the connection. */
  closed: Promise<string>;
}

async function connect(port: number): Promise<RawClient> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.on('data', (d) => (received += String(d)));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  socket.on('error', () => undefined);
  return { socket, closed, received: () => received };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe(`graceful stop of the HTTP server (${TEST_DB})`, () => {
  let app: TestApp;
  let port: number;
  /** Server-side sockets in order of connection, to wait until the server has read what a client sent. */
  const serverSockets: net.Socket[] = [];

  beforeEach(async () => {
    app = await startTestApp();
    app.server.http.on('connection', (s: net.Socket) => serverSockets.push(s));
    port = Number(new URL(await app.url()).port);
  });
  afterEach(async () => {
    serverSockets.length = 0;
    await app.close();
  });

  function serverHasRead(index: number, bytes: number): Promise<void> {
    return until(() => (serverSockets[index]?.bytesRead ?? 0) >= bytes);
  }

  it('answers a request whose head was still arriving, closes an idle keep-alive socket, and drains', async () => {
    const idle = await connect(port);
    idle.socket.write(head(port) + BODY);
    await until(() => /"data":.*\n$/.test(idle.received()));
    const slow = await connect(port);
    const firstPart = head(port).slice(0, 40);
    slow.socket.write(firstPart);
    await serverHasRead(1, firstPart.length);

    const stopped = app.server.stop(20_000);
    await idle.closed; // the idle keep-alive socket is closed at once
    slow.socket.write(head(port).slice(40) + BODY);
    const answer = await slow.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('"data":{"me":');
    expect(await stopped).toEqual({ drained: true, unfinished: 0 });
  });

  it('refuses a request pipelined behind an accepted one on a kept-alive socket: it never reaches the handler', async () => {
    const client = await connect(port);
    const first = head(port) + BODY.slice(0, 5);
    client.socket.write(first);
    await serverHasRead(0, first.length);
    await new Promise((resolve) => setImmediate(resolve));
    expect(app.server.inFlight()).toBe(1);

    const stopped = app.server.stop(20_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.socket.write(BODY.slice(5) + head(port) + BODY);
    const answer = await client.closed;
    expect(answer.match(/HTTP\/1\.1 200 /g)).toHaveLength(1);
    expect(answer).not.toMatch(/HTTP\/1\.1 (?!200|503)/);
    expect(await stopped).toEqual({ drained: true, unfinished: 0 });
  });

  it('gives up after the grace period and says how many requests were cut', async () => {
    const client = await connect(port);
    const partial = head(port) + BODY.slice(0, 5);
    client.socket.write(partial); // the body never completes
    await serverHasRead(0, partial.length);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await app.server.stop(200)).toEqual({ drained: false, unfinished: 1 });
    expect(await client.closed).toBe('');
  });
});
