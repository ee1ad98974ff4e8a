/**
 * The load generator of `npm run bench`, in its own process so that its CPU
 * is not charged to the server under test: autocannon against one URL with a
 * rotating list of request bodies, the result sent back to the parent.
 */
import autocannon from 'autocannon';

export interface LoadJob {
  url: string;
  connections: number;
  durationSeconds: number;
  headers: Record<string, string>;
  /** JSON bodies sent in turn (one per request). */
  bodies: string[];
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function run(job: LoadJob): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.durationSeconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...job.headers },
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          request.body = job.bodies[next % job.bodies.length]!;
          next += 1;
          return request;
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

process.once('message', (job: LoadJob) => {
  run(job).then(
    (result) => process.send?.({ ok: true, result }, undefined, {}, () => process.exit(0)),
    (error: unknown) => process.send?.({ ok: false, error: String((error as Error)?.stack ?? error) }, undefined, {}, () => process.exit(1)),
  );
});
