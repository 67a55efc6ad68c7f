import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { createBlobStore } from '../src/blobs/blob-store.js';
import { createLogger } from '../src/log/logger.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { loadConfig } from '../src/config/load-config.js';
import { createGateway } from '../src/gateway.js';
import { retryAfterMs } from '../src/sinks/builtin/post-json.js';
import { createBatcher } from '../src/sinks/create-batcher.js';
import { loadSinks } from '../src/sinks/load-sinks.js';
import { REDIS_URL, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';
import { startReceiver } from './helpers/receiver.js';

const PG_URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const upload = (n: number, extra: Record<string, unknown> = {}) => ({
  studyId: 'study-1',
  uploadId: `upload-${n}`,
  secretCode: 'code',
  ...extra,
});

async function deadLetters(t: TestGateway, sink: string) {
  const queue = new Queue(sinkQueueName(sink), {
    connection: { url: REDIS_URL } as never,
    prefix: t.prefix,
  });
  try {
    return await waitFor(`a dead letter in ${sink}`, async () => {
      const f = await queue.getFailed();
      return f.length > 0 && f;
    });
  } finally {
    await queue.close();
  }
}

describe('built-in sink: postgres', () => {
  let t: TestGateway | undefined;
  const schema = `sh_test_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  before(() => client.connect());
  after(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('creates its table at start-up and writes each event once, even when delivered twice', async () => {
    t = await startGateway(
      {
        archive: false,
        sinks: [
          {
            name: 'db',
            use: 'postgres',
            options: { connectionString: '${PG_URL}', schema, table: 'events' },
          },
        ],
      },
      { env: { PG_URL } },
    );
    const res = await request(t.gateway.app!).post('/sensorlogger/lab').send(upload(1)).expect(200);
    const rows = await waitFor(
      'the row',
      async () =>
        (await client.query(`SELECT * FROM ${schema}.events`)).rows.length > 0 &&
        (await client.query(`SELECT * FROM ${schema}.events`)).rows,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].id, res.body.id);
    assert.equal(rows[0].type, 'sensorlogger.recording.uploaded');
    assert.equal(rows[0].namespace, 'lab');
    assert.equal(rows[0].study, 'study-1');
    assert.equal(rows[0].event.subject, 'upload-1');
    const idx = await client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1`, [
      schema,
    ]);
    assert.ok(
      idx.rows.some((r: { indexname: string }) => r.indexname === 'events_participant_idx'),
    );
    // A second gateway (same table) re-delivering the same event id must not add a row.
    await t.close();
    t = await startGateway({
      archive: false,
      sinks: [
        {
          name: 'db',
          use: 'postgres',
          options: { connectionString: PG_URL, schema, table: 'events' },
        },
      ],
    });
    await request(t.gateway.app!).post('/sensorlogger/lab').send(upload(1)).expect(200);
    await request(t.gateway.app!).post('/sensorlogger/lab').send(upload(2)).expect(200);
    assert.equal(
      (await queueState(t, 'db')).jobs,
      2,
      'this gateway queued both deliveries, the re-delivered one included',
    );
    assert.deepEqual(await settled(t, 'db'), { jobs: 2, pending: 0, completed: 2, failed: 0 });
    assert.equal((await client.query(`SELECT id FROM ${schema}.events`)).rows.length, 2);
  });

  it('commits 99 rows of a batch of 100 when one breaks a constraint; the bad one is retried, then a dead letter', async function () {
    this.timeout(30000);
    // why: a table made beforehand with a CHECK the 100th row breaks; the sink adds its other columns.
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE ${schema}.checked (id text PRIMARY KEY, subject text CHECK (subject <> 'upload-bad'))`,
    );
    const sinks = [
      {
        name: 'db',
        use: 'postgres',
        options: { connectionString: PG_URL, schema, table: 'checked', batchWaitMs: 1000 },
        attempts: 2,
        backoff: { type: 'fixed', delayMs: 100 },
      },
    ];
    t = await startGateway({ archive: false, sinks }, { roles: { api: true, worker: false } });
    for (let n = 1; n < 100; n++)
      await request(t.gateway.app!).post('/sensorlogger/lab').send(upload(n)).expect(200);
    const bad = (
      await request(t.gateway.app!)
        .post('/sensorlogger/lab')
        .send(upload(0, { uploadId: 'upload-bad' }))
        .expect(200)
    ).body.id as string;
    // The worker starts with all 100 deliveries waiting, so that they meet in one batch.
    const worker = await createGateway({
      config: loadConfig({ path: join(t.dataDir, 'studyhook.yml'), env: {} }),
      roles: { api: false, worker: true },
      logger: createLogger({ level: 'silent' }),
      stalledIntervalMs: 1000,
    });
    try {
      const [failed] = await deadLetters(t, 'db');
      assert.equal(failed!.data.event.id, bad);
      assert.equal(failed!.attemptsMade, 2);
      assert.match(failed!.failedReason, /check constraint/);
      const ids = (await client.query<{ id: string }>(`SELECT id FROM ${schema}.checked`)).rows.map(
        (r) => r.id,
      );
      assert.equal(ids.length, 99);
      assert.ok(!ids.includes(bad));
      // One INSERT of 100 rows, then each row alone (100), then the bad row's retry: 102 statements, 201 rows.
      const counter = async (name: string) =>
        (await worker.metrics.registry.getSingleMetric(name)!.get()).values.find(
          (v) => v.labels['sink'] === 'db',
        )?.value;
      assert.equal(await counter('studyhook_sink_batches_total'), 102);
      assert.equal(await counter('studyhook_sink_batched_items_total'), 201);
    } finally {
      await worker.close();
    }
  });

  it('fails at start-up when the database cannot be reached', async () => {
    const [loaded] = await loadSinks([
      {
        name: 'db',
        use: 'postgres',
        options: { host: '127.0.0.1', port: 1, user: 'postgres', database: 'test' },
        filter: {},
        attempts: 1,
        backoff: { type: 'fixed', delayMs: 0 },
        concurrency: 1,
      },
    ]);
    const ctx = {
      name: 'db',
      logger: createLogger({ level: 'silent' }),
      blobs: createBlobStore(tmpdir()),
      dataDir: tmpdir(),
      fileMode: 0o640,
      clients: {},
      createBatcher,
    };
    await assert.rejects(
      Promise.resolve(loaded!.sink.setup!(loaded!.options, ctx)),
      /ECONNREFUSED/,
    );
  });
});

describe('built-in sink: http (CloudEvents + Standard Webhooks)', () => {
  let t: TestGateway | undefined;
  let rx: Awaited<ReturnType<typeof startReceiver>> | undefined;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  afterEach(async () => {
    await t?.close();
    await rx?.close();
    t = undefined;
    rx = undefined;
  });

  const gatewayTo = (url: string, extra: Record<string, unknown> = {}) =>
    startGateway({
      archive: false,
      sinks: [
        {
          name: 'fwd',
          use: 'http',
          options: { url, secret, timeoutMs: 2000 },
          attempts: 3,
          backoff: { type: 'fixed', delayMs: 50 },
          ...extra,
        },
      ],
    });

  it('forwards a CloudEvent whose Standard Webhooks signature verifies', async () => {
    rx = await startReceiver();
    t = await gatewayTo(rx.url);
    const res = await request(t.gateway.app!).post('/sensorlogger/lab').send(upload(1)).expect(200);
    const [got] = await waitFor(
      'the forwarded event',
      () => rx!.received.length > 0 && rx!.received,
    );
    assert.equal(got!.headers['content-type'], 'application/cloudevents+json');
    assert.equal(got!.headers['webhook-id'], res.body.id);
    const verified = new Webhook(secret).verify(
      got!.body,
      got!.headers as Record<string, string>,
    ) as { specversion: string; id: string };
    assert.equal(verified.specversion, '1.0');
    assert.equal(verified.id, res.body.id);
    assert.throws(() =>
      new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(
        got!.body,
        got!.headers as Record<string, string>,
      ),
    );
  });

  it('gives up at once when the receiver answers 410 Gone', async () => {
    rx = await startReceiver([{ status: 410 }]);
    t = await gatewayTo(rx.url);
    await request(t.gateway.app!).post('/sensorlogger/lab').send(upload(2)).expect(200);
    const [failed] = await deadLetters(t, 'fwd');
    assert.equal(failed!.attemptsMade, 1);
    assert.equal(rx.received.length, 1);
  });

  it('gives up at once on a 400 but retries a 500', async () => {
    rx = await startReceiver([{ status: 500 }, { status: 400 }]);
    t = await gatewayTo(rx.url);
    await request(t.gateway.app!).post('/sensorlogger/lab').send(upload(3)).expect(200);
    const [failed] = await deadLetters(t, 'fwd');
    assert.equal(failed!.attemptsMade, 2);
    assert.match(failed!.failedReason, /answered 400/);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-05-01T12:00:00Z');
    assert.equal(retryAfterMs('120', now), 120000);
    assert.equal(retryAfterMs('Fri, 01 May 2026 12:00:30 GMT', now), 30000);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(null, now), undefined);
  });

  it('waits for a short Retry-After on 429, then delivers in the same attempt', async () => {
    rx = await startReceiver([{ status: 429, headers: { 'retry-after': '1' } }]);
    t = await gatewayTo(rx.url, { attempts: 1 });
    await request(t.gateway.app!).post('/sensorlogger/lab').send(upload(4)).expect(200);
    await waitFor('the second request', () => rx!.received.length === 2, 5000);
    assert.ok(
      rx.received[1]!.at - rx.received[0]!.at >= 950,
      'the second request came after Retry-After',
    );
  });
});

interface Msg {
  text?: string;
  content?: string;
  type?: string;
  attachments?: { contentType: string; content: { type: string; body: { text: string }[] } }[];
}

describe('built-in sink: chat', () => {
  let t: TestGateway | undefined;
  let rx: Awaited<ReturnType<typeof startReceiver>> | undefined;
  afterEach(async () => {
    await t?.close();
    await rx?.close();
    t = undefined;
    rx = undefined;
  });

  for (const [format, text] of [
    ['slack', (b: Msg) => b.text],
    ['discord', (b: Msg) => b.content],
    [
      'teams',
      (b: Msg) =>
        b.type === 'message' &&
        b.attachments?.[0]?.contentType === 'application/vnd.microsoft.card.adaptive' &&
        b.attachments[0].content.type === 'AdaptiveCard' &&
        b.attachments[0].content.body[0]?.text,
    ],
  ] as const) {
    it(`posts a templated ${format} message for a matching event only`, async () => {
      rx = await startReceiver();
      t = await startGateway({
        archive: false,
        sinks: [
          {
            name: 'ping',
            use: 'chat',
            options: {
              url: rx.url,
              format,
              template: 'New {{type}} {{subject}} in {{studyid}}{{data.nothing}}',
            },
            filter: { namespaces: ['lab'] },
          },
        ],
      });
      await request(t.gateway.app!).post('/sensorlogger/other').send(upload(1)).expect(200);
      await request(t.gateway.app!).post('/sensorlogger/lab').send(upload(2)).expect(200);
      assert.equal((await queueState(t, 'ping')).jobs, 1, 'only the matching event has a job');
      assert.equal((await settled(t, 'ping')).completed, 1);
      assert.equal(rx.received.length, 1);
      const [got] = rx.received;
      assert.equal(got!.headers['content-type'], 'application/json');
      assert.equal(
        text(JSON.parse(got!.body) as Msg),
        'New sensorlogger.recording.uploaded upload-2 in study-1',
      );
    });
  }
});
