import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import request from 'supertest';
import { sample } from '../src/commands/sample.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';

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
      return { admin: { token: TOKEN }, platforms: { sensorlogger: { namespaces: { pilot: {} } } }, sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }] };
    });
    base = `http://127.0.0.1:${await t.gateway.listen(0, '127.0.0.1')}`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => { await browser?.close(); await t?.close(); });

  it('refuses the dashboard without the admin token, in the browser and over plain HTTP', async () => {
    // Headless Chromium cannot show the Basic login box, so the 401 challenge ends the navigation.
    const page = await browser.newPage();
    await assert.rejects(page.goto(`${base}/admin/events`), /ERR_INVALID_AUTH_CREDENTIALS/);
    await page.close();
    const wrong = await browser.newContext({ httpCredentials: { username: 'admin', password: 'not-the-token' } });
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
      assert.equal(await sample.run(['sensorlogger', '--config', join(t.dataDir, 'studyhook.yml'), '--url', base]), 0);
    } finally { console.log = log; }
    const [d] = await waitFor('the delivery', () => { const all = readDeliveries(out); return all.length > 0 && all; });
    const context = await browser.newContext({ httpCredentials: { username: 'admin', password: TOKEN } });
    const page = await context.newPage();
    const res = await page.goto(`${base}/admin/events?namespace=pilot`);
    assert.equal(res?.status(), 200);
    const row = page.locator('tr', { hasText: d!.event.id });
    await row.waitFor();
    assert.match(await row.innerText(), /sensorlogger\.recording\.uploaded/);
    await waitFor('delivered-to column', async () => /rec/.test(await row.locator('td.ok').innerText()));
    await context.close();
  });

  it('loads the queue board (Bull Board) with the token and lists the sink queues', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'admin', password: TOKEN } });
    const page = await context.newPage();
    const res = await page.goto(`${base}/admin/queues`);
    assert.equal(res?.status(), 200);
    await page.getByText('sink-rec').first().waitFor({ timeout: 15000 });
    await page.screenshot({ path: join(t.dataDir, 'board.png') });
    await context.close();
  });
});
