import assert from 'node:assert/strict';
import request from 'supertest';
import { routes } from './fixtures/labvanced/routes.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const A = 'https://a.example';
const B = 'https://b.example';

describe('Labvanced CORS headers, request after request', () => {
  let t: TestGateway;

  before(async () => {
    t = await startGateway(() => ({
      platforms: { labvanced: { namespaces: { one: { allowedOrigins: [A] }, two: { allowedOrigins: [A, B] }, open: { allowedOrigins: ['*'] } } } },
      sinks: [],
    }));
  });
  after(async () => { await t.close(); });

  // why: the headers of an actual request are computed once per kind and Origin and reused; a reply
  // must still carry its own request's Origin, whatever the requests before it sent.
  it('echoes each request\'s own listed Origin, sends * for an open namespace, and no CORS headers without an Origin; a preflight keeps the request id and security headers', async () => {
    const send = (ns: string, origin?: string) => {
      const r = request(t.gateway.app!).post(`/labvanced/${ns}/recordTrial`).set('Content-Type', 'application/json');
      return (origin ? r.set('Origin', origin) : r).send(JSON.stringify(routes.recordTrial.body));
    };
    const cases: [string, string | undefined, string | undefined, string | undefined][] = [
      ['one', A, A, 'true'], ['two', B, B, 'true'], ['two', A, A, 'true'], ['open', 'https://c.example', '*', undefined],
      ['one', undefined, undefined, undefined], ['open', 'https://d.example', '*', undefined], ['two', B, B, 'true'], ['one', A, A, 'true'],
    ];
    for (const [ns, origin, allow, credentials] of cases) {
      const res = await send(ns, origin);
      const what = `${ns} with Origin ${origin ?? 'none'}`;
      assert.equal(res.status, 200, `${what}: ${res.text}`);
      assert.equal(res.headers['access-control-allow-origin'], allow, what);
      assert.equal(res.headers['access-control-allow-credentials'], credentials, what);
      assert.equal(res.headers['vary'], allow === undefined || allow === '*' ? undefined : 'Origin', what);
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/, what);
      assert.equal(res.headers['x-frame-options'], 'DENY', what);
    }
    const pre = await request(t.gateway.app!).options('/labvanced/two/recordTrial').set('Origin', B).set('Access-Control-Request-Method', 'POST');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], B);
    assert.match(String(pre.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'a preflight has a request id too');
    assert.equal(pre.headers['x-frame-options'], 'DENY');
    assert.equal(pre.headers['cache-control'], 'no-store');
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) ids.add(String((await send('one', A)).headers['x-request-id']));
    assert.equal(ids.size, 3, 'each reply has its own request id');
  });
});
