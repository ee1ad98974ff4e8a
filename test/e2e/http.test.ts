import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';

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
    app = await startTestApp();
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

  it('no header, a bad header and a wrong scheme are UNAUTHENTICATED', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${ADMIN_TOKEN}` }] as Array<Record<string, string>>) {
      const { json } = await post(url, { query: '{ me { id } }' }, headers);
      expect(json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
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
