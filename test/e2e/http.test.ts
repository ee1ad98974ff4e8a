import http from 'node:http';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';

const MAX_BODY = 64 * 1024;

/** Sends only the headers of a POST that announces a body, and resolves with the status if the server answers without it. */
function answerWithoutBody(url: string, headers: Record<string, string>): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      request.destroy();
      reject(new Error('the server waited for the body'));
    }, 5_000);
    const request = http.request(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY - 1), ...headers } }, (response) => {
      clearTimeout(timer);
      response.resume();
      resolve({ status: response.statusCode ?? 0, connection: response.headers.connection });
      request.destroy();
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.flushHeaders();
  });
}

/** A chunked body (no content-length) of `total` bytes of JSON whitespace after a valid start. */
function chunkedBody(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = sent === 0 ? `{"query":"{ me { id } }"${' '.repeat(16 * 1024)}` : ' '.repeat(16 * 1024);
      sent += chunk.length;
      controller.enqueue(new TextEncoder().encode(chunk));
    },
  });
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as any };
}

describe(`HTTP (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  beforeAll(async () => {
    app = await startTestApp({ KEXIN_MAX_BODY_BYTES: String(MAX_BODY) });
    url = await app.url();
  });
  afterAll(() => app.close());

  it('GET /health answers 200 with a JSON body while the database answers', async () => {
    const response = await fetch(`${url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', database: 'up' });
  });

  it('POST /graphql with a bearer key, and a request id header on every answer', async () => {
    const { status, headers, json } = await post(url, { query: '{ me { organization { code } } }' }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(status).toBe(200);
    expect(json.data.me.organization.code).toBe('EXCHANGE');
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('no header, a bad header and a wrong scheme are 401 UNAUTHENTICATED', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${ADMIN_TOKEN}` }] as Array<Record<string, string>>) {
      const { status, headers: answer, json } = await post(url, { query: '{ me { id } }' }, headers);
      expect(status).toBe(401);
      expect(answer.get('www-authenticate')).toBe('Bearer');
      expect(json).toEqual({ errors: [{ message: expect.stringMatching(/API key/), extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  });

  it('answers a missing or unknown key with 401 without reading the body', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }] as Array<Record<string, string>>) {
      expect(await answerWithoutBody(url, headers)).toEqual({ status: 401, connection: 'close' });
    }
  });

  it(`answers a body above KEXIN_MAX_BODY_BYTES (${MAX_BODY}) with 413 BAD_USER_INPUT, by its content-length or by its bytes`, async () => {
    const declared = await post(url, { query: '{ me { id } }', padding: 'x'.repeat(MAX_BODY) }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    const streamed = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: chunkedBody(16 * MAX_BODY),
      duplex: 'half',
    } as RequestInit);
    for (const { status, json } of [declared, { status: streamed.status, json: (await streamed.json()) as any }]) {
      expect(status).toBe(413);
      expect(json.errors[0]).toEqual({ message: `Request body is larger than ${MAX_BODY} bytes`, extensions: { code: 'BAD_USER_INPUT', limit: MAX_BODY } });
    }
    // the server is still fine for the next request
    expect((await post(url, { query: '{ me { id } }' }, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  });

  it('bad bodies get a clear BAD_USER_INPUT, never a stack trace', async () => {
    const cases = ['{not json', '', JSON.stringify({ query: '{ me { nope } }' }), JSON.stringify({ query: '{ me' }), JSON.stringify({ nothing: true })];
    for (const body of cases) {
      const { status, json } = await post(url, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(status).toBeGreaterThanOrEqual(400);
      expect(json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(json)).not.toMatch(/stacktrace|node_modules|\.ts:\d+/);
    }
  });

  it('unknown paths are 404', async () => {
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('outside production, validation errors still suggest field names', async () => {
    const { json } = await post(url, { query: '{ me { nmae } }' }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(json.errors[0].message).toMatch(/Did you mean "name"\?/);
  });

});

describe(`HTTP in production mode (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  beforeAll(async () => {
    app = await startTestApp({ NODE_ENV: 'production', LOG_LEVEL: 'silent' });
    url = await app.url();
  });
  afterAll(() => app.close());

  it('has no introspection and no landing page', async () => {
    const { json } = await post(url, { query: '{ __schema { types { name } } }' }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(json.data?.__schema).toBeUndefined();
    expect(json.errors[0].message).toMatch(/introspection/i);
    const landing = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await landing.text()).not.toMatch(/<html/i);
  });

  it('validation errors carry no "Did you mean" suggestions', async () => {
    for (const query of ['{ me { nmae } }', '{ polices { pageInfo { hasNextPage } } }', 'query($g: SummaryDimension!) { completenessSummary(insurerCode: "X", groupBy: $g) { key } }']) {
      const { status, json } = await post(url, { query, variables: { g: 'CHANEL' } }, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(status).toBe(400);
      expect(json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(json)).not.toMatch(/Did you mean/i);
    }
  });

  it('an unexpected fault is INTERNAL_SERVER_ERROR without SQL or stack, and /health turns 503 when the database is gone', async () => {
    await app.db.destroy();
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(503);
    const { json } = await post(url, { query: '{ me { id } }' }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    const text = JSON.stringify(json);
    expect(json.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(text).not.toMatch(/SELECT|principal|stack|node_modules|\.ts:\d+|key_hash/i);
  });
});
