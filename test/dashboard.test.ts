import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { type Browser } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import request from 'supertest';
import { sample } from '../src/commands/sample.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { B1, S, T } from './fixtures/prolific/vectors.js';
import { prolificSignature } from './helpers/sign.js';
import {
  REDIS_URL,
  fixtures,
  recordingSink,
  startGateway,
  waitFor,
  type TestGateway,
} from './helpers/gateway.js';

const switchSink = join(fixtures, 'sinks', 'switch-sink.ts');

const TOKEN = 'dashboard-admin-token-0123456789';

describe('dashboard (real Chromium)', function () {
  this.timeout(60000);
  let t: TestGateway;
  let browser: Browser;
  let base = '';
  let out = '';

  before(async () => {
    t = await startGateway((dir) => {
      out = join(dir, 'out.jsonl');
      return {
        admin: { token: TOKEN },
        platforms: { sensorlogger: { namespaces: { pilot: {} } } },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
    base = `http://127.0.0.1:${await t.gateway.listen(0, '127.0.0.1')}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('refuses the dashboard without the admin token, in the browser and over plain HTTP', async () => {
    // Headless Chromium cannot show the Basic login box, so the 401 challenge ends the navigation.
    const page = await browser.newPage();
    await assert.rejects(page.goto(`${base}/admin/events`), /ERR_INVALID_AUTH_CREDENTIALS/);
    await page.close();
    const wrong = await browser.newContext({
      httpCredentials: { username: 'admin', password: 'not-the-token' },
    });
    const refused = await (await wrong.newPage()).goto(`${base}/admin/queues`);
    assert.equal(refused?.status(), 401);
    await wrong.close();
    await request(t.gateway.app!).get('/admin/queues').expect(401);
    await request(t.gateway.app!).get('/admin/events').auth('admin', 'wrong-token').expect(401);
  });

  it('shows an event sent by `studyhook sample` in the recent-events view, with the sink it reached', async () => {
    const log = console.log;
    console.log = () => undefined;
    try {
      assert.equal(
        await sample.run([
          'sensorlogger',
          '--config',
          join(t.dataDir, 'studyhook.yml'),
          '--url',
          base,
        ]),
        0,
      );
    } finally {
      console.log = log;
    }
    const [d] = await waitFor('the delivery', () => {
      const all = readDeliveries(out);
      return all.length > 0 && all;
    });
    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: TOKEN },
    });
    const page = await context.newPage();
    const res = await page.goto(`${base}/admin/events?namespace=pilot`);
    assert.equal(res?.status(), 200);
    const row = page.locator('tr', { hasText: d!.event.id });
    await row.waitFor();
    assert.match(await row.innerText(), /sensorlogger\.recording\.uploaded/);
    await waitFor('delivered-to column', async () =>
      /rec/.test(await row.locator('td.ok').innerText()),
    );
    await context.close();
  });

  it('loads the queue board (Bull Board) with the token and lists the sink queues', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: TOKEN },
    });
    const page = await context.newPage();
    const res = await page.goto(`${base}/admin/queues`);
    assert.equal(res?.status(), 200);
    await page.getByText('sink-rec').first().waitFor({ timeout: 15000 });
    await page.screenshot({ path: join(t.dataDir, 'board.png') });
    await context.close();
  });
});

describe('dashboard writes from another site (real Chromium)', function () {
  this.timeout(60000);
  let t: TestGateway;
  let browser: Browser;
  let base = '';
  let flakyOut = '';
  let down = '';
  let evil: Server;
  let evilOrigin = '';
  let rec: Queue;
  let flaky: Queue;
  const total = async (q: Queue) =>
    Object.values(
      await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'),
    ).reduce((a, b) => a + b, 0);

  before(async () => {
    t = await startGateway((dir) => {
      flakyOut = join(dir, 'flaky.jsonl');
      down = join(dir, 'flaky-is-down');
      return {
        admin: { token: TOKEN },
        platforms: { sensorlogger: { namespaces: { pilot: {} } } },
        sinks: [
          { name: 'rec', module: recordingSink, options: { file: join(dir, 'rec.jsonl') } },
          // why: one attempt while `down` exists, so a dead letter appears; its retry succeeds once `down` is gone.
          {
            name: 'flaky',
            module: switchSink,
            attempts: 1,
            options: { file: flakyOut, failWhile: down },
          },
        ],
      };
    });
    base = `http://127.0.0.1:${await t.gateway.listen(0, '127.0.0.1')}`;
    rec = new Queue(sinkQueueName('rec'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    flaky = new Queue(sinkQueueName('flaky'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    // A page on another origin that tries to add a job to a sink queue: a text/plain form (no preflight) and a no-cors fetch.
    const target = `${base}/admin/queues/api/queues/${sinkQueueName('rec')}/add`;
    evil = createServer((req, res) => {
      const page =
        req.url === '/form'
          ? `<form id="f" method="POST" action="${target}" enctype="text/plain"><input name='{"name":"junk","data":{"x":"' value='"}}'></form><script>document.getElementById('f').submit()</script>`
          : '<title>elsewhere</title>';
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<!doctype html>${page}`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilOrigin = `http://localhost:${(evil.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    evil?.closeAllConnections();
    await new Promise((r) => evil?.close(r));
    await rec?.close();
    await flaky?.close();
    await t?.close();
  });

  it("refuses a job added by another site's form or fetch carrying the browser's Basic credentials, and logs the attempt", async () => {
    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: TOKEN },
    });
    const before = await total(rec);
    const page = await context.newPage();
    const reply = page.waitForResponse((r) => r.url().endsWith('/add') && r.status() !== 401);
    await page.goto(`${evilOrigin}/form`);
    assert.equal(
      (await reply).status(),
      403,
      'the form post, once the browser sent the credentials',
    );
    await page.goto(`${evilOrigin}/`);
    const fetched = await page.evaluate(
      (url) =>
        fetch(url, {
          method: 'POST',
          mode: 'no-cors',
          credentials: 'include',
          headers: { 'Content-Type': 'text/plain' },
          body: '{"name":"junk","data":{}}',
        }).then(
          (r) => r.type,
          (e) => String(e),
        ),
      `${base}/admin/queues/api/queues/${sinkQueueName('rec')}/add`,
    );
    // why: the reply is withheld from the page either way (Cross-Origin-Resource-Policy); what matters is that no job appears.
    assert.match(fetched, /^(opaque|TypeError: Failed to fetch)$/);
    assert.equal(await total(rec), before, 'no job was added');
    // (Chromium answers no auth challenge for another site's fetch; a browser with remembered credentials would send them
    // unasked, with Sec-Fetch-Site: cross-site, which the last test below shows is refused.)
    const refused = t.logs.filter((l) => l.includes('admin write refused'));
    assert.equal(refused.length, 1, 'the form post was refused and logged');
    assert.match(refused[0]!, /"method":"POST".*"auth":"basic".*"fetchSite":"cross-site"/);
    for (const line of t.logs) assert.ok(!line.includes(TOKEN), 'the token is never logged');
    await context.close();
  });

  it('still lets the dashboard\'s own "Retry all" button retry a dead letter, and logs the write', async () => {
    await writeFile(down, '');
    await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send({ studyId: 's', uploadId: 'retry-me', secretCode: 'c' })
      .expect(200);
    await waitFor('the dead letter', async () => (await flaky.getJobCounts('failed')).failed === 1);
    await rm(down);
    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: TOKEN },
    });
    const page = await context.newPage();
    await page.goto(`${base}/admin/queues/queue/${sinkQueueName('flaky')}?status=failed`);
    await page.getByRole('button', { name: 'Retry all' }).click();
    const put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.status() !== 401);
    await page.getByRole('button', { name: 'Confirm' }).click();
    assert.equal((await put).status(), 200);
    const line0 = await waitFor(
      'the retried delivery',
      () => readFile(flakyOut, 'utf8').catch(() => ''),
      15000,
    );
    assert.equal((JSON.parse(line0) as { uploadId: string }).uploadId, 'retry-me');
    const line = t.logs.find((l) => l.includes('"msg":"admin write"'));
    assert.ok(line, 'the write is logged');
    assert.match(
      line,
      /"method":"PUT".*"path":"\/admin\/queues\/api\/queues\/sink-flaky\/retry\/failed".*"auth":"basic".*"user":"admin"/,
    );
    assert.match(line, /"status":200/);
    await context.close();
  });

  it('lets a script write with the Bearer header, and refuses Basic credentials without Sec-Fetch-Site: same-origin', async () => {
    const path = `/admin/queues/api/queues/${sinkQueueName('rec')}/pause`;
    await request(t.gateway.app!).put(path).auth('admin', TOKEN).expect(403);
    await request(t.gateway.app!)
      .put(path)
      .auth('admin', TOKEN)
      .set('Sec-Fetch-Site', 'same-site')
      .expect(403);
    await request(t.gateway.app!)
      .post(`/admin/queues/api/queues/${sinkQueueName('rec')}/add`)
      .auth('admin', TOKEN)
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Content-Type', 'text/plain')
      .send('{"name":"junk","data":{}}')
      .expect(403);
    await request(t.gateway.app!).put(path).set('Authorization', `Bearer ${TOKEN}`).expect(200);
    assert.equal(await rec.isPaused(), true);
    await request(t.gateway.app!)
      .put(`/admin/queues/api/queues/${sinkQueueName('rec')}/resume`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .expect(200);
    await request(t.gateway.app!).get('/admin/events').auth('admin', TOKEN).expect(200); // reading needs no mark
  });
});

describe('dashboard pages that show what participants sent (real Chromium)', function () {
  this.timeout(60000);
  let t: TestGateway;
  let browser: Browser;
  let base = '';
  let rec: Queue;
  // What a participant's browser (or anyone posing as one) can put into a Labvanced call.
  const planted = `<img src=x onerror="window.__ran='planted'">`;

  before(async () => {
    t = await startGateway((dir) => ({
      admin: { token: TOKEN },
      platforms: { labvanced: { namespaces: { lab: {} } } },
      sinks: [{ name: 'rec', module: recordingSink, options: { file: join(dir, 'rec.jsonl') } }],
    }));
    base = `http://127.0.0.1:${await t.gateway.listen(0, '127.0.0.1')}`;
    rec = new Queue(sinkQueueName('rec'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    await request(t.gateway.app!)
      .post('/labvanced/lab/startFirstPlayerSession')
      .set('Origin', 'https://www.labvanced.com')
      .send({ expId: 1, expSessionNr: 7, subject_code: planted, groupNr: 1, sessionNr: 1 })
      .expect(200);
    await waitFor('the delivery', async () => (await rec.getJobCounts('completed')).completed);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await rec?.close();
    await t?.close();
  });

  it('Bull Board and /admin/events ask no other host for anything, keep a CSP, and run no script injected into them', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: TOKEN },
    });
    const page = await context.newPage();
    // Requests to another host, but for those the CSP stopped before they left the browser.
    const elsewhere = new Set<string>();
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) elsewhere.add(r.url());
    });
    page.on('requestfailed', (r) => {
      // why: Chromium reports a request its CSP refused as failed with the reason 'csp'.
      if (r.failure()?.errorText === 'csp') elsewhere.delete(r.url());
    });
    const [job] = await rec.getJobs(['completed']);
    const res = await page.goto(
      `${base}/admin/queues/queue/${rec.name}/${job!.id}?status=completed`,
    );
    assert.equal(res?.status(), 200);
    // The board still works under its CSP: its job page shows the event, payload and all, as text.
    await page.getByText('labvanced.session.assigned').first().waitFor({ timeout: 15000 });
    const data = page.getByRole('button', { name: 'Data', exact: true });
    if (await data.count()) await data.first().click();
    await page.getByText('onerror', { exact: false }).first().waitFor({ timeout: 15000 });
    // As an XSS in a page's rendering of a payload would: markup with an inline handler.
    const inject = (html: string) =>
      page.evaluate(async (h) => {
        document.body.insertAdjacentHTML('beforeend', h);
        await new Promise((r) => setTimeout(r, 300));
        return (window as unknown as { __ran?: string }).__ran ?? null;
      }, html);
    const csp = (r: Awaited<ReturnType<typeof page.goto>>) =>
      /script-src 'self';.*frame-ancestors 'none'/.test(
        r!.headers()['content-security-policy'] ?? '',
      );
    const seen: Record<string, unknown> = {
      boardCsp: csp(res),
      boardCache: res!.headers()['cache-control'],
      boardApiCache: await page.evaluate(async () =>
        (await fetch('api/queues')).headers.get('cache-control'),
      ),
      boardInjectedRan: await inject(planted),
    };
    const events = await page.goto(`${base}/admin/events`);
    await page.getByText('labvanced.session.assigned').first().waitFor();
    assert.equal(
      await page.evaluate(() => getComputedStyle(document.querySelector('table')!).borderCollapse),
      'collapse',
      'its own inline style still applies',
    );
    Object.assign(seen, {
      eventsCsp: csp(events),
      eventsCache: events!.headers()['cache-control'],
      eventsInjectedRan: await inject(planted),
      // why: Bull Board links Google Fonts; a page showing participants' data must not tell a third party who looks at it.
      otherHosts: [...elsewhere],
    });
    assert.deepEqual(seen, {
      boardCsp: true,
      boardCache: 'no-store',
      boardApiCache: 'no-store',
      boardInjectedRan: null,
      eventsCsp: true,
      eventsCache: 'no-store',
      eventsInjectedRan: null,
      otherHosts: [],
    });
    await context.close();
  });
});

describe("the overview's replay command for a dead letter", function () {
  this.timeout(30000);
  let t: TestGateway;

  before(async () => {
    t = await startGateway((dir) => ({
      admin: { token: TOKEN },
      platforms: { prolific: { namespaces: { lab: { secrets: [S] } } } },
      sinks: [
        // why: failing while the config file exists is failing always: the one attempt makes a dead letter.
        {
          name: 'flaky',
          module: switchSink,
          attempts: 1,
          options: { file: join(dir, 'flaky.jsonl'), failWhile: join(dir, 'studyhook.yml') },
        },
      ],
    }));
  });
  after(async () => {
    await t?.close();
  });

  it('is one shell word per value, whatever X-Event-ID the (signed) delivery carried', async () => {
    // why: Prolific's signature covers the timestamp and the body, not X-Event-ID, and the id becomes the event's.
    const id = 'evt-$(touch pwned)-`touch pwned2`-1';
    await request(t.gateway.app!)
      .post('/prolific/lab')
      .set('Content-Type', 'application/json')
      .set('X-Event-ID', id)
      .set('X-Prolific-Request-Timestamp', T)
      .set('X-Prolific-Request-Signature', prolificSignature(S, T, B1))
      .send(B1)
      .expect(200);
    const failure = await waitFor('the dead letter in the overview', async () => {
      const res = await request(t.gateway.app!)
        .get('/admin/overview/data.json')
        .set('Authorization', `Bearer ${TOKEN}`)
        .expect(200);
      return (res.body as { failures: { eventId: string; replay: string }[] }).failures[0];
    });
    assert.equal(failure.eventId, id);
    // What pasting it into a shell does, with `studyhook` standing for a program that prints its arguments.
    const args = execFileSync(
      'sh',
      ['-c', `studyhook() { printf '%s\\n' "$@"; }; ${failure.replay}`],
      {
        cwd: t.dataDir,
        timeout: 5000,
        encoding: 'utf8',
      },
    );
    assert.deepEqual(
      {
        args: args.split('\n').filter(Boolean),
        ran: ['pwned', 'pwned2'].filter((f) => existsSync(join(t.dataDir, f))),
      },
      { args: ['replay', '--sink', 'flaky', '--id', id], ran: [] },
    );
  });
});
