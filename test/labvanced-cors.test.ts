import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import request from 'supertest';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { routes } from './fixtures/labvanced/routes.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const A = 'https://a.example';
const B = 'https://b.example';

describe('Labvanced CORS headers, request after request', () => {
  let t: TestGateway;

  before(async () => {
    t = await startGateway(() => ({
      platforms: {
        labvanced: {
          namespaces: {
            one: { allowedOrigins: [A] },
            two: { allowedOrigins: [A, B] },
            open: { allowedOrigins: ['*'] },
          },
        },
      },
      sinks: [],
    }));
  });
  after(async () => {
    await t.close();
  });

  // why: the headers of an actual request are computed once per kind and Origin and reused; a reply
  // must still carry its own request's Origin, whatever the requests before it sent.
  it("echoes each request's own listed Origin, sends * for an open namespace, and no CORS headers without an Origin; a preflight keeps the request id and security headers", async () => {
    const send = (ns: string, origin?: string) => {
      const r = request(t.gateway.app!)
        .post(`/labvanced/${ns}/recordTrial`)
        .set('Content-Type', 'application/json');
      return (origin ? r.set('Origin', origin) : r).send(JSON.stringify(routes.recordTrial.body));
    };
    const cases: [string, string | undefined, string | undefined, string | undefined][] = [
      ['one', A, A, 'true'],
      ['two', B, B, 'true'],
      ['two', A, A, 'true'],
      ['open', 'https://c.example', '*', undefined],
      ['one', undefined, undefined, undefined],
      ['open', 'https://d.example', '*', undefined],
      ['two', B, B, 'true'],
      ['one', A, A, 'true'],
    ];
    for (const [ns, origin, allow, credentials] of cases) {
      const res = await send(ns, origin);
      const what = `${ns} with Origin ${origin ?? 'none'}`;
      assert.equal(res.status, 200, `${what}: ${res.text}`);
      assert.equal(res.headers['access-control-allow-origin'], allow, what);
      assert.equal(res.headers['access-control-allow-credentials'], credentials, what);
      assert.equal(
        res.headers['vary'],
        allow === undefined || allow === '*' ? undefined : 'Origin',
        what,
      );
      assert.equal(
        res.headers['access-control-allow-methods'],
        allow === undefined ? undefined : 'POST, OPTIONS',
        `${what}: methods on the actual reply`,
      );
      assert.equal(
        res.headers['access-control-allow-headers'],
        allow === undefined ? undefined : 'Content-Type',
        `${what}: headers on the actual reply`,
      );
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/, what);
      assert.equal(res.headers['x-frame-options'], 'DENY', what);
    }
    const pre = await request(t.gateway.app!)
      .options('/labvanced/two/recordTrial')
      .set('Origin', B)
      .set('Access-Control-Request-Method', 'POST');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], B);
    assert.match(
      String(pre.headers['x-request-id']),
      /^[0-9a-f-]{36}$/,
      'a preflight has a request id too',
    );
    assert.equal(pre.headers['x-frame-options'], 'DENY');
    assert.equal(pre.headers['cache-control'], 'no-store');
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) ids.add(String((await send('one', A)).headers['x-request-id']));
    assert.equal(ids.size, 3, 'each reply has its own request id');
  });
});

describe('Labvanced CORS edge cases: origins as the docs print them, mistyped URL Paths', function () {
  this.timeout(60000);
  let t: TestGateway;
  const L = 'https://www.labvanced.com';

  before(async () => {
    t = await startGateway(() => ({
      platforms: {
        labvanced: {
          namespaces: {
            slash: { allowedOrigins: ['https://www.labvanced.com/'] },
            custom: { allowedOrigins: ['HTTPS://Study.Example.org:443/'] },
          },
        },
      },
      sinks: [],
    }));
  });
  after(async () => {
    await t.close();
  });
  const trial = (path: string, origin: string) =>
    request(t.gateway.app!)
      .post(path)
      .set('Origin', origin)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(routes.recordTrial.body));

  it('accepts an allowedOrigins entry written with a trailing slash, upper case or a default port, as browsers send the Origin', async () => {
    const a = await trial('/labvanced/slash/recordTrial', L);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.headers['access-control-allow-origin'], L);
    const b = await trial('/labvanced/custom/recordTrial', 'https://study.example.org');
    assert.equal(b.status, 200, b.text);
    assert.equal(b.headers['access-control-allow-origin'], 'https://study.example.org');
    const pre = await request(t.gateway.app!)
      .options('/labvanced/slash/recordTrial')
      .set('Origin', L)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], L);
  });

  it('refuses at config load an allowed origin with a path, or without a scheme, naming the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-origins-'));
    try {
      const file = join(dir, 'studyhook.yml');
      await writeFile(
        file,
        stringify({
          platforms: {
            labvanced: {
              namespaces: {
                a: { allowedOrigins: ['https://www.labvanced.com/study/42'] },
                b: { allowedOrigins: ['www.labvanced.com'] },
                c: { allowedOrigins: ['https://x.example/?q'] },
              },
            },
          },
        }),
      );
      assert.throws(
        () => loadConfig({ path: file, env: {} }),
        (err: Error & { code: string; details: { path: string; message: string }[] }) => {
          assert.equal(err.code, 'SH_CONFIG_INVALID');
          assert.deepEqual(
            err.details.map((d) => d.path),
            [
              '/platforms/labvanced/namespaces/a',
              '/platforms/labvanced/namespaces/b',
              '/platforms/labvanced/namespaces/c',
            ],
          );
          assert.match(
            err.details[0]!.message,
            /has a path.*did you mean https:\/\/www\.labvanced\.com\?/,
          );
          assert.match(err.details[1]!.message, /write its scheme and host/);
          return true;
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("answers an unknown route or namespace 404 with CORS headers for the platform's origins, preflight included", async () => {
    for (const path of [
      '/labvanced/slash/recordTrail',
      '/labvanced/slsh/recordTrial',
      '/labvanced/slash/recordTrial/extra',
    ]) {
      const pre = await request(t.gateway.app!)
        .options(path)
        .set('Origin', L)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type');
      assert.equal(pre.status, 204, `${path} preflight`);
      assert.equal(pre.headers['access-control-allow-origin'], L, `${path} preflight`);
      assert.match(String(pre.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      for (const origin of [L, 'https://study.example.org']) {
        const res = await trial(path, origin);
        assert.equal(res.status, 404, path);
        assert.match(res.body.code, /^SH_(NOT_FOUND|UNKNOWN_NAMESPACE)$/, path);
        assert.equal(res.headers['access-control-allow-origin'], origin, `${path} from ${origin}`);
        assert.equal(res.headers['access-control-allow-methods'], 'POST, OPTIONS');
      }
    }
    const stranger = await trial('/labvanced/slsh/recordTrial', 'https://evil.example');
    assert.equal(
      stranger.status,
      404,
      'an origin no namespace lists still gets the 404, not a 403',
    );
    assert.equal(stranger.headers['access-control-allow-origin'], undefined);
    const other = await request(t.gateway.app!)
      .post('/sensorlogger/nope')
      .set('Origin', L)
      .send({});
    assert.equal(
      other.headers['access-control-allow-origin'],
      undefined,
      'platforms without browser routes answer no CORS',
    );
  });

  it('lets a real page read the 404 of a mistyped URL Path and post with an origin written with a trailing slash (Chromium)', async () => {
    const page: Server = createServer((_req, res) => {
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end('<!doctype html><title>player</title>');
    });
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
    const origin = `http://localhost:${(page.address() as AddressInfo).port}`;
    const g = await startGateway({
      platforms: { labvanced: { namespaces: { web: { allowedOrigins: [`${origin}/`] } } } },
      sinks: [],
    });
    const port = await g.gateway.listen(0, '127.0.0.1');
    const browser: Browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(origin);
      // why: no named functions inside evaluate: tsx's name helper does not exist in the page.
      const result = await tab.evaluate(
        (base) =>
          Promise.all(
            [
              '/labvanced/web/recordTrial',
              '/labvanced/wbe/recordTrial',
              '/labvanced/web/recordtrial',
            ].map(async (path) => {
              try {
                const r = await fetch(`${base}${path}`, {
                  method: 'POST',
                  headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({
                    expSessionNr: 1,
                    recTaskId: 2,
                    trialNr: 3,
                    recData: { data: { rt: 1 } },
                  }),
                });
                return [r.status, (await r.json()).code ?? 'ok'];
              } catch (err) {
                return ['blocked', String(err)];
              }
            }),
          ),
        `http://127.0.0.1:${port}`,
      );
      assert.deepEqual(result, [
        [200, 'ok'],
        [404, 'SH_UNKNOWN_NAMESPACE'],
        [404, 'SH_NOT_FOUND'],
      ]);
    } finally {
      await browser.close();
      page.closeAllConnections();
      await new Promise((r) => page.close(r));
      await g.close();
    }
  });
});
