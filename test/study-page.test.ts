import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { type Browser } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import request from 'supertest';
import { sinkQueueName } from '../src/queue/redis.js';
import { labvanced, waitArchived } from './fixtures/export/drive-study.js';
import { driveStudy, studyConfig } from './fixtures/study/drive.js';
import { startFakeProlific, type FakeProlific } from './helpers/fake-prolific.js';
import { REDIS_URL, fixtures, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const OUT = new URL('../test-output/', import.meta.url).pathname;

describe('the live study page /admin/studies/<study> (real Chromium)', function () {
  this.timeout(90000);
  let t: TestGateway;
  let fake: FakeProlific;
  let browser: Browser;
  let base = '';
  let token = '';

  before(async () => {
    fake = await startFakeProlific();
    t = await startGateway((dir) => {
      const c = studyConfig(fake.baseUrl, fake.token);
      token = (c['admin'] as { token: string }).token;
      // A sink that is down for Labvanced's failed sessions: their event becomes a dead letter at once.
      const down = join(dir, 'down');
      void writeFile(down, '');
      return {
        ...c,
        sinks: [
          {
            name: 'flaky',
            module: join(fixtures, 'sinks', 'switch-sink.ts'),
            attempts: 1,
            options: { file: join(dir, 'flaky.jsonl'), failWhile: down },
            filter: { types: ['labvanced.session.failed'] },
          },
        ],
      };
    });
    base = `http://127.0.0.1:${await t.gateway.listen(0, '127.0.0.1')}`;
    const events = await driveStudy(t);
    // A trial without recData: kept in quarantine (and answered success, as the player needs).
    await labvanced(t, 'stroop', 'recordTrial', { expSessionNr: 299, trialNr: 1 });
    await waitArchived(t, events);
    const flaky = new Queue(sinkQueueName('flaky'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    await waitFor(
      'the dead letter',
      async () => (await flaky.getJobCounts('failed'))['failed'] === 1,
      20000,
    );
    await flaky.close();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await fake?.close();
  });

  it('is behind the admin token, and answers an unknown study with 404', async () => {
    await request(t.gateway.app!).get('/admin/studies/stroop').expect(401);
    await request(t.gateway.app!)
      .get('/admin/studies/stroop/data.json')
      .auth('admin', 'wrong-token-0123456789')
      .expect(401);
    const r = await request(t.gateway.app!)
      .get('/admin/studies/nope/data.json')
      .auth('admin', token)
      .expect(404);
    assert.match(r.body.message, /unknown study 'nope'/);
  });

  it('shows the numbers of the study driven through HTTP: funnel, events per hour, participants, last events, quarantine and dead letters', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: token },
      viewport: { width: 1400, height: 1300 },
    });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
        errors.push(`${r.status()} ${r.url()}`);
    });
    const res = await page.goto(`${base}/admin/studies/stroop`);
    assert.equal(res?.status(), 200);
    assert.match(res!.headers()['content-security-policy']!, /script-src 'self'/);
    await page.locator('#participants tbody tr').first().waitFor();
    const cards = await page.locator('#cards').innerText();
    for (const want of [
      /7\s+participants/,
      /2\s+complete/,
      /2\s+incomplete/,
      /1\s+no data/,
      /1\s+data without submission/,
      /1\s+returned\/timed out/,
      /2\s+to approve/,
    ])
      assert.match(cards, want);
    const funnel = await page.evaluate(() => {
      const c = (
        globalThis as unknown as {
          Chart: {
            getChart(id: string): { data: { labels: string[]; datasets: { data: number[] }[] } };
          };
        }
      ).Chart.getChart('funnel')!;
      return c.data.labels.map((l, i) => `${l}=${c.data.datasets[0]!.data[i]}`);
    });
    assert.deepEqual(funnel, [
      'Labvanced assigned=6',
      'Labvanced started=6',
      'Labvanced finished=4',
      'Labvanced failed=1',
      'Prolific AWAITING REVIEW=5',
      'Prolific RETURNED=1',
    ]);
    const hourly = await page.evaluate(() => {
      const c = (
        globalThis as unknown as {
          Chart: {
            getChart(id: string): { data: { datasets: { label: string; data: number[] }[] } };
          };
        }
      ).Chart.getChart('hourly')!;
      return c.data.datasets.map((d) => `${d.label}=${d.data.reduce((a, b) => a + b, 0)}`);
    });
    const json = (await (
      await page.request.get(`${base}/admin/studies/stroop/data.json`)
    ).json()) as { summary: { events: Record<string, number> } };
    assert.deepEqual(
      hourly,
      [
        `prolific=${json.summary.events['prolific']}`,
        `labvanced=${json.summary.events['labvanced']}`,
      ],
      'every event of this run falls in the last 72 hours',
    );
    assert.equal(await page.locator('#participants tbody tr').count(), 7);
    await page.selectOption('#filter', 'incomplete');
    assert.deepEqual(await page.locator('#participants tbody tr td:first-child').allInnerTexts(), [
      'PID-FAILED',
      'PID-GAP',
    ]);
    assert.match(
      await page.locator('#participants tbody tr', { hasText: 'PID-FAILED' }).innerText(),
      /failed: WebGL not supported/,
    );
    const problems = await page.locator('#problems').innerText();
    assert.match(problems, /quarantined payloads\s+1\s+show/);
    assert.match(problems, /dead letters of sink flaky\s+1\s+show/);
    assert.match(problems, /dead letters of sink archive\s+0/);
    assert.match(
      await page.locator('#last').innerText(),
      /labvanced\s+stroop\s+\d{4}-\d\d-\d\dT.*s ago/,
    );
    await page.selectOption('#filter', '');
    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'study-page.png'), fullPage: true });
    // The quarantine link lists the kept payload.
    await page.getByRole('link', { name: 'show' }).first().click();
    await page.waitForURL(/\/quarantine$/);
    assert.match(
      await page.locator('table').innerText(),
      /labvanced\/stroop\s+recordTrial\s+invalid/,
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requested.filter((u) => !u.startsWith(base)),
      [],
      'nothing is loaded from another origin (no CDN)',
    );
    assert.ok(requested.includes(`${base}/admin/studies/assets/chart.js`));
    await context.close();
  });
});
