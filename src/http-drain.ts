import type http from 'node:http';
import type { Socket } from 'node:net';

/** Outcome of {@link HttpDrain.stop}: whether every accepted request was answered within the grace period. */
export interface DrainResult {
  drained: boolean;
  /** Requests still unanswered when the grace period ended (their connections were then closed). */
  unfinished: number;
}

export interface HttpDrain {
  /** Requests accepted and not yet answered. */
  inFlight(): number;
  stop(graceMs: number): Promise<DrainResult>;
}

/**
 * Node counts requests per socket only while `maxRequestsPerSocket` is set;
 * this value never limits anything but lets {@link HttpDrain.stop} refuse a
 * kept-alive socket's next request.
 */
const COUNT_REQUESTS = 2 ** 31 - 1;

/**
 * Graceful shutdown of a node:http server (issue 8, item 8). Apollo's drain
 * plugin is not used: it ends every socket with no request counted yet (one
 * whose request head was still arriving) and gives up after a fixed 10 s,
 * after which handlers ran on against a closed database.
 *
 * At {@link HttpDrain.stop}: the sockets the kernel already accepted are read
 * (two event-loop turns), then the listener closes; every accepted request
 * (its head had begun arriving) is answered with `Connection: close`; idle
 * keep-alive sockets are closed; a request arriving later on a kept-alive
 * socket gets Node's 503 without reaching the handler. It resolves when the
 * last connection closed, or when `graceMs` ran out (then the rest are cut).
 */
export function drainable(server: http.Server): HttpDrain {
  const inFlight = new Map<http.ServerResponse, Socket>();
  let stopping: Promise<DrainResult> | null = null;
  server.maxRequestsPerSocket = COUNT_REQUESTS;
  const closeIdleSoon = () => setImmediate(() => server.closeIdleConnections());
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight.set(res, req.socket);
    if (stopping) res.shouldKeepAlive = false;
    res.once('close', () => {
      inFlight.delete(res);
      if (stopping) closeIdleSoon();
    });
  });
  server.on('dropRequest', () => closeIdleSoon());

  return {
    inFlight: () => inFlight.size,
    stop: (graceMs) => (stopping ??= drain(graceMs)),
  };

  async function drain(graceMs: number): Promise<DrainResult> {
      // Every socket that served a request refuses its next one (503); a new connection's first request is still served.
      server.maxRequestsPerSocket = 1;
      for (const [res, socket] of inFlight) {
        if (!res.headersSent) res.shouldKeepAlive = false;
        else res.once('finish', () => socket.end());
      }
      await eventLoopTurns(3);
      if (!server.listening) return { drained: true, unfinished: 0 };
      let timer: NodeJS.Timeout | undefined;
      const closed = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
      const expired = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const drained = await Promise.race([closed, expired]);
      clearTimeout(timer);
      const unfinished = inFlight.size;
      if (!drained) {
        server.closeAllConnections();
        await closed;
      }
      return { drained, unfinished: drained ? 0 : unfinished };
  }
}

/** Lets `n` event-loop turns pass, so connections and bytes that arrived before the signal are read (each turn polls I/O once). */
async function eventLoopTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
}
