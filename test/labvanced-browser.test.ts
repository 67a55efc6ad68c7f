import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';

/** A tiny page server: the origin the "player" runs on. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>player</title>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}

const close = (s: Server): Promise<void> =>
  new Promise((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });

describe('Labvanced routes from a real browser (Chromium, cross-origin)', () => {
  let t: TestGateway;
  let browser: Browser;
  let page: { server: Server; origin: string };
  let stranger: { server: Server; origin: string };
  let gateway: Server;
  let base: string;
  let out: string;

  before(async () => {
    page = await pageServer();
    stranger = await pageServer();
    t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      return {
        platforms: {
          labvanced: {
            namespaces: { web: { allowedOrigins: [page.origin], maxUploadBytes: 64 * 1024 } },
          },
        },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
    gateway = createServer(t.gateway.app).listen(0, '127.0.0.1');
    await new Promise((r) => gateway.once('listening', r));
    base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/labvanced/web`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await Promise.all([page, stranger].map((p) => close(p.server)));
    if (gateway) await close(gateway);
    await t?.close();
  });

  it('lets the allowed page post a preflighted JSON trial, upload FormData and read the replies, even errors', async () => {
    const tab = await browser.newPage();
    await tab.goto(page.origin);
    const result = await tab.evaluate(async (url) => {
      const trial = await fetch(`${url}/recordTrial`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          expSessionNr: 77,
          trialNr: 1,
          recTaskId: 5,
          expId: 4242,
          taskId: 't1',
          recData: { data: { rt: 512 }, scope: 'trial' },
        }),
      });
      const form = new FormData();
      form.append('expSessionNr', '77');
      form.append('newFileName', 'audio_b1_t1.webm');
      form.append(
        'myFile',
        new Blob([new Uint8Array(1000).fill(7)], { type: 'audio/webm' }),
        'audio_b1_t1.webm',
      );
      const upload = await fetch(`${url}/file_upload`, { method: 'POST', body: form });
      const tooBig = new FormData();
      tooBig.append('expSessionNr', '77');
      tooBig.append('newFileName', 'huge.webm');
      tooBig.append('myFile', new Blob([new Uint8Array(200 * 1024)]), 'huge.webm');
      const big = await fetch(`${url}/file_upload`, { method: 'POST', body: tooBig });
      const broken = await fetch(`${url}/recordTrial`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"expSessionNr": ',
      });
      return {
        trial: [trial.status, await trial.json()],
        upload: [upload.status, await upload.json()],
        big: [big.status, await big.json()],
        broken: [broken.status, await broken.json()],
      };
    }, base);
    assert.deepEqual(result.trial, [200, { success: true }]);
    const [status, reply] = result.upload as [number, { file_guid: string; file_name: string }];
    assert.equal(status, 200);
    assert.equal(reply.file_name, 'audio_b1_t1.webm');
    assert.equal((result.big as [number, { code: string }])[0], 413);
    assert.equal((result.big as [number, { code: string }])[1].code, 'SH_BLOB_TOO_LARGE');
    // A trial the gateway cannot read is kept in quarantine and answered as a success, so the player does not retry it forever.
    assert.deepEqual(result.broken, [200, { success: true }]);
    const all = await waitFor('two deliveries', () => {
      const d = readDeliveries(out);
      return d.length === 2 && d;
    });
    assert.deepEqual(all.map((d) => d.event.type).sort(), [
      'labvanced.file.uploaded',
      'labvanced.trial.recorded',
    ]);
    assert.ok(all.some((d) => d.event.id === reply.file_guid));
    await tab.close();
  });

  it('blocks the same request from a page on an origin that is not on the list', async () => {
    const tab = await browser.newPage();
    await tab.goto(stranger.origin);
    const outcome = await tab.evaluate(async (url) => {
      try {
        const res = await fetch(`${url}/recordTrial`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ expSessionNr: 1, recData: {} }),
        });
        return `read ${res.status}`;
      } catch (err) {
        return `blocked: ${(err as Error).name}`;
      }
    }, base);
    assert.equal(outcome, 'blocked: TypeError');
    await tab.close();
  });
});
