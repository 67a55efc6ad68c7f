import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import request from 'supertest';
import { replay } from '../src/commands/replay.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { REDIS_URL, fixtures, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const OUT = new URL('../test-output/', import.meta.url).pathname;
const TOKEN = 'overview-admin-token-0123456789';
const switchSink = join(fixtures, 'sinks', 'switch-sink.ts');

interface Data {
  events: { id: string; delivered: string[]; failed: string[] }[];
  failures: { eventId: string }[];
  namespaces: { namespace: string; events: number }[];
  hourly: { platforms: Record<string, number[]> };
}

describe('the dashboard overview /admin/overview (real Chromium)', function () {
  this.timeout(90000);
  let t: TestGateway;
  let browser: Browser;
  let page: Page;
  let base = '';
  let down = '';
  let flaky: Queue;
  const ids: Record<string, string> = {};
  const pageErrors: string[] = [];

  const send = async (ns: string, uploadId: string) => {
    const res = await request(t.gateway.app!)
      .post(`/sensorlogger/${ns}`)
      .send({ studyId: 's1', uploadId, secretCode: 'c' })
      .expect(200);
    return (res.body as { id: string }).id;
  };
  const archived = async () => {
    let n = 0;
    for (const ns of ['pilot', 'sleep']) {
      const dir = join(t.dataDir, 'events', 'sensorlogger', ns);
      for (const f of await readdir(dir).catch((): string[] => []))
        n += (await readFile(join(dir, f), 'utf8')).split('\n').filter(Boolean).length;
    }
    return n;
  };
  /** A cell of the sensorlogger/<ns> row of the counts table. */
  const cell = (ns: string, col: number) =>
    page
      .locator('#namespaces tbody tr')
      .filter({ has: page.locator('td:nth-child(2)', { hasText: new RegExp(`^${ns}$`) }) })
      .locator('td')
      .nth(col)
      .innerText();

  before(async () => {
    t = await startGateway((dir) => {
      down = join(dir, 'flaky-is-down');
      return {
        admin: { token: TOKEN },
        platforms: { sensorlogger: { namespaces: { pilot: {}, sleep: {}, quiet: {} } } },
        sinks: [
          // One attempt while `down` exists, for the `sleep` namespace only: its event becomes a dead letter.
          {
            name: 'flaky',
            module: switchSink,
            attempts: 1,
            filter: { namespaces: ['sleep'] },
            options: { file: join(dir, 'flaky.jsonl'), failWhile: down },
          },
        ],
      };
    });
    await writeFile(down, '');
    base = `http://127.0.0.1:${await t.gateway.listen(0, '127.0.0.1')}`;
    flaky = new Queue(sinkQueueName('flaky'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    for (const u of ['p1', 'p2', 'p3']) ids[u] = await send('pilot', u);
    ids['s1'] = await send('sleep', 's1');
    // A call without uploadId: kept in quarantine and answered 422.
    await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send({ studyId: 's1', secretCode: 'c' })
      .expect(422);
    await waitFor('4 archived events', async () => (await archived()) === 4);
    await waitFor('the dead letter', async () => (await flaky.getJobCounts('failed')).failed === 1);
    browser = await launchChromium();
    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: TOKEN },
      viewport: { width: 1400, height: 1100 },
    });
    page = await context.newPage();
    // why: the page refreshes itself every 10 s; the test moves the page's clock on instead of waiting.
    await page.clock.install();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.url()}`);
    });
  });
  after(async () => {
    await browser?.close();
    await flaky?.close();
    await t?.close();
  });

  it('shows counts per platform and namespace, the dead letter with its error and replay command, and the quarantined call with its republish command', async () => {
    const res = await page.goto(`${base}/admin`);
    assert.equal(res?.status(), 200);
    assert.match(page.url(), /\/admin\/overview$/);
    await page.waitForSelector('body[data-loaded]');
    assert.equal(await cell('pilot', 2), '3');
    assert.equal(await cell('sleep', 2), '1');
    assert.equal(await cell('sleep', 5), '1', 'dead letters of sleep');
    assert.equal(await cell('pilot', 6), '1', 'quarantined in pilot');
    assert.equal(await cell('quiet', 2), '0', 'a configured namespace without events is listed');
    const failure = page.locator('#failures tbody tr');
    assert.equal(await failure.count(), 1);
    const text = await failure.innerText();
    assert.match(text, /sink is down/);
    assert.ok(text.includes(`studyhook replay --sink flaky --id ${ids['s1']}`));
    const kept = await page.locator('#quarantine tbody tr').innerText();
    assert.match(kept, /uploadId/);
    assert.ok(
      kept.includes('studyhook quarantine republish --platform sensorlogger --namespace pilot'),
    );
    // The failed sink of the event links to its failure row, where the error is.
    const link = page.locator('#events tbody tr', { hasText: ids['s1']! }).locator('td.bad a');
    assert.equal(await link.getAttribute('href'), `#fail-flaky-${ids['s1']}`);
    assert.equal(await page.locator(`[id="fail-flaky-${ids['s1']}"]`).count(), 1);
    const hourly = await page.evaluate(() =>
      fetch('/admin/overview/data.json').then((r) => r.json() as Promise<Data>),
    );
    assert.equal(
      hourly.hourly.platforms['sensorlogger']!.reduce((a, b) => a + b, 0),
      4,
    );
    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'dashboard-overview.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });

  it('opens the dead letter in Bull Board from its job link', async () => {
    const href = await page
      .locator('#failures tbody tr a', { hasText: 'job' })
      .getAttribute('href');
    assert.match(href!, /^\/admin\/queues\/queue\/sink-flaky\/e[0-9a-f]{40}$/);
    const board = await page.context().newPage();
    assert.equal((await board.goto(`${base}${href!}`))?.status(), 200);
    await board.getByText('sink is down').first().waitFor({ timeout: 15000 });
    await board.close();
  });

  it('finds an event by its id from the search box, and refreshes by itself when an event arrives', async () => {
    await page.fill('#q', ids['p2']!);
    await waitFor(
      'one matching row',
      async () =>
        (await page.locator('#events tbody tr').count()) === 1 &&
        (await page.locator('#events tbody tr.hit').innerText()).includes(ids['p2']!),
    );
    await page.fill('#q', '');
    await waitFor(
      'every recent event again',
      async () => (await page.locator('#events tbody tr').count()) === 4,
    );
    // From here only the page's own timer reads the data again.
    const loads = Number(await page.getAttribute('body', 'data-loaded'));
    ids['p4'] = await send('pilot', 'p4');
    await page.clock.fastForward(10_000);
    await waitFor(
      'the count refreshed without a reload',
      async () => (await cell('pilot', 2)) === '4',
      30000,
    );
    assert.ok(Number(await page.getAttribute('body', 'data-loaded')) > loads);
  });

  it('shows a dead letter that was replayed and then delivered as delivered, not with its old error', async () => {
    await rm(down);
    const log = console.log;
    console.error = console.log = () => undefined;
    try {
      assert.equal(
        await replay.run([
          '--config',
          join(t.dataDir, 'studyhook.yml'),
          '--sink',
          'flaky',
          '--id',
          ids['s1']!,
        ]),
        0,
      );
    } finally {
      console.log = log;
      console.error = log;
    }
    const data = await waitFor(
      'the replayed delivery',
      async () => {
        const d = (
          await request(t.gateway.app!)
            .get('/admin/overview/data.json')
            .set('Authorization', `Bearer ${TOKEN}`)
            .expect(200)
        ).body as Data;
        return d.events.find((e) => e.id === ids['s1'] && e.delivered.includes('flaky')) && d;
      },
      20000,
    );
    const row = data.events.find((e) => e.id === ids['s1'])!;
    assert.deepEqual(row.failed, []);
    assert.deepEqual(data.failures, []);
  });
});
