import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { B1, S } from './fixtures/prolific/vectors.js';
import { recordingSink, startGateway, type TestGateway } from './helpers/gateway.js';
import { queuedEvents } from './helpers/quarantine.js';

const sign = (body: string, ts: string): string =>
  createHmac('sha256', S)
    .update(ts + body)
    .digest('base64');

describe('Prolific timestamps that are numbers but no date', () => {
  let t: TestGateway;
  before(async () => {
    t = await startGateway(
      (dir) => ({
        platforms: { prolific: { namespaces: { lab: { secrets: [S] } } } },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: `${dir}/d.jsonl` } }],
      }),
      { roles: { api: true, worker: false } },
    );
  });
  after(() => t?.close());

  for (const [what, headers] of [
    ['X-Timestamp', { 'X-Timestamp': '99999999999999999999', ts: '1700000000' }],
    ['signed X-Prolific-Request-Timestamp', { ts: '99999999999999999999' }],
  ] as const) {
    it(`accepts a signed request whose ${what} is 20 digits, keeps the header as received and uses the receive time`, async () => {
      const ts = headers.ts;
      const id = `evt-huge-ts-${ts.length}-${what.length}`;
      const res = await request(t.gateway.app!)
        .post('/prolific/lab')
        .set('Content-Type', 'application/json')
        .set('X-Event-ID', id)
        .set('X-Prolific-Request-Timestamp', ts)
        .set('X-Prolific-Request-Signature', sign(B1, ts))
        .set('X-Timestamp', 'X-Timestamp' in headers ? headers['X-Timestamp'] : ts)
        .send(B1);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const event = (await queuedEvents(t.prefix, 'rec')).find((e) => e.id === id);
      assert.ok(event, 'the event is queued once the request is acknowledged');
      assert.equal(event['prolifictimestamp'], '99999999999999999999');
      assert.ok(
        !Number.isNaN(Date.parse(String(event['time']))),
        `time ${String(event['time'])} is a date`,
      );
    });
  }
});
