import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import request from 'supertest';
import { sinkQueueName } from '../src/queue/redis.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { startFakeSensorLogger, type FakeSensorLogger } from './helpers/fake-sensorlogger.js';
import {
  REDIS_URL,
  recordingSink,
  startGateway,
  waitFor,
  type TestGateway,
} from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';
import { makeZip } from './helpers/make-zip.js';

const CODE = 'sl-study-secret-code';
const STORED = 'sensorlogger.recording.stored';

describe('sensorlogger-fetch: recordings into the blob store', () => {
  let api: FakeSensorLogger;
  let t: TestGateway | undefined;
  let out = '';
  const files = [
    {
      name: 'Accelerometer.csv',
      data: 'time,seconds_elapsed,z,y,x\n1700000000000000000,0,1,2,3\n1700000000010000000,0.01,1,2,3\n',
    },
    { name: 'Metadata.csv', data: 'version,device\n1,phone\n' },
    { name: 'StudyMetadata.json', data: '{"answers":[]}' },
  ];
  const zip = makeZip(files);

  const start = (sink: Record<string, unknown> = {}) =>
    startGateway((dir) => {
      out = join(dir, 'stored.jsonl');
      return {
        platforms: { sensorlogger: { namespaces: { pilot: {} }, client: { baseUrl: api.url } } },
        sinks: [
          {
            name: 'fetch',
            use: 'sensorlogger-fetch',
            attempts: 4,
            backoff: { type: 'fixed', delayMs: 50 },
            ...sink,
          },
          {
            name: 'rec',
            module: recordingSink,
            options: { file: out },
            filter: { types: [STORED] },
          },
        ],
      };
    });
  const uploaded = (uploadId: string, studyId = 'study-1') => ({
    studyId,
    uploadId,
    secretCode: CODE,
  });

  beforeEach(async () => {
    api = await startFakeSensorLogger(CODE);
    api.files.set('study-1/u-zip', {
      data: zip,
      contentType: 'application/octet-stream',
      fileName: 'Walk-2026-11-23_10-00-00.zip',
    });
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await api.close();
  });

  it('downloads a zip, stores it with its checksum and delivers sensorlogger.recording.stored with the FileRef, the file list and the secretCode', async () => {
    t = await start();
    const res = await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send(uploaded('u-zip'))
      .expect(200);
    const [d] = await waitFor('the stored event', () => {
      const all = readDeliveries(out);
      return all.length > 0 && all;
    });
    const data = d!.event['data'] as {
      file: { sha256: string; size: number; contentType: string; name: string };
      format: string;
      entries: unknown;
      uploadedEventId: string;
    };
    assert.equal(d!.event.type, STORED);
    assert.equal(d!.event['subject'], 'u-zip');
    assert.equal(data.uploadedEventId, res.body.id);
    assert.equal(data.format, 'zip');
    assert.equal(
      data.file.contentType,
      'application/zip',
      'known by its magic bytes, not the octet-stream Content-Type',
    );
    assert.equal(data.file.name, 'Walk-2026-11-23_10-00-00.zip');
    assert.equal(data.file.size, zip.length);
    assert.equal(data.file.sha256, createHash('sha256').update(zip).digest('hex'));
    assert.deepEqual(await buffer(t.gateway.blobs.open(data.file as never)), zip);
    assert.deepEqual(
      data.entries,
      files.map((f) => ({ name: f.name, size: Buffer.byteLength(f.data) })),
    );
    assert.deepEqual(d!.secrets, { secretCode: CODE });
    const [get] = api.requests;
    assert.equal(get!.method, 'GET');
    assert.deepEqual(get!.query, { studyId: 'study-1', uploadId: 'u-zip' });
    assert.equal(get!.headers.authorization, CODE);
    assert.ok(!t.logs.join('').includes(CODE), 'the code never reaches the logs');
  });

  it('stores a file that is not a zip as delivered, with its own Content-Type and no file list', async () => {
    api.files.set('study-1/u-json', {
      data: Buffer.from('{"samples":[]}'),
      contentType: 'application/json',
    });
    t = await start();
    await request(t.gateway.app!).post('/sensorlogger/pilot').send(uploaded('u-json')).expect(200);
    const [d] = await waitFor('the stored event', () => {
      const all = readDeliveries(out);
      return all.length > 0 && all;
    });
    const data = d!.event['data'] as Record<string, unknown>;
    assert.equal(data['format'], 'other');
    assert.deepEqual(
      [
        (data['file'] as { name: string }).name,
        (data['file'] as { contentType: string }).contentType,
      ],
      ['u-json', 'application/json'],
    );
    assert.equal(data['entries'], undefined);
  });

  it('retries a download answered 503 and 502, then emits the stored event once', async () => {
    api.failDownloads.push(503, 502);
    t = await start();
    await request(t.gateway.app!).post('/sensorlogger/pilot').send(uploaded('u-zip')).expect(200);
    await waitFor('the stored event', () => readDeliveries(out).length > 0);
    assert.equal(api.requests.filter((r) => r.path === '/api/study/file/v1').length, 3);
    // why: the fetch queue also holds the stored event the fetch emitted (the sink is unfiltered).
    const fetches = (await settled(t, 'fetch')).jobs;
    await request(t.gateway.app!).post('/sensorlogger/pilot').send(uploaded('u-zip')).expect(200);
    assert.equal((await queueState(t, 'fetch')).jobs, fetches, 'the repeated call added no fetch');
    assert.equal((await settled(t, 'rec')).jobs, 1);
    assert.equal(readDeliveries(out).length, 1);
  });

  it('announces a recording once even when the same upload is fetched again (a redelivery after a lost ack)', async () => {
    t = await start();
    await request(t.gateway.app!).post('/sensorlogger/pilot').send(uploaded('u-zip')).expect(200);
    await waitFor('the stored event', () => readDeliveries(out).length > 0);
    const queue = new Queue(sinkQueueName('fetch'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    try {
      const done = await waitFor('the completed fetch', async () =>
        (await queue.getCompleted()).find(
          (j) => j.data.event.type === 'sensorlogger.recording.uploaded',
        ),
      );
      // why: as a delivery retried after a lost acknowledgement has it (a completed job keeps no secret).
      await queue.add(
        done.name,
        { ...done.data, secrets: { secretCode: CODE } },
        { jobId: 'redelivered' },
      );
      await waitFor(
        'the second download',
        () => api.requests.filter((r) => r.path === '/api/study/file/v1').length === 2,
      );
      await waitFor(
        'the second fetch to finish',
        async () => (await queue.getJobState('redelivered')) === 'completed',
      );
    } finally {
      await queue.close();
    }
    // why final: a fetch publishes its stored event before it completes.
    assert.equal((await settled(t, 'rec')).jobs, 1, 'the second fetch announced nothing new');
    assert.equal(readDeliveries(out).length, 1);
  });

  it('gives up at once when the API answers 401, leaving a dead letter in the fetch queue', async () => {
    t = await start();
    await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send({ ...uploaded('u-zip'), secretCode: 'wrong-code' })
      .expect(200);
    const queue = new Queue(sinkQueueName('fetch'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    try {
      const [failed] = await waitFor('a dead letter', async () => {
        const f = await queue.getFailed();
        return f.length > 0 && f;
      });
      assert.equal(failed!.attemptsMade, 1);
      assert.match(failed!.failedReason, /download: HTTP 401/);
    } finally {
      await queue.close();
    }
    assert.equal(readDeliveries(out).length, 0);
    assert.ok(!t.logs.join('').includes('wrong-code'));
  });

  it('sends ids only as query values to the configured host, never as a URL of their own', async () => {
    const studyId = 'x&uploadId=y#@evil.example/';
    api.files.set(`${studyId}/u-zip`, { data: zip, contentType: 'application/zip' });
    t = await start();
    await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send({ ...uploaded('u-zip', studyId), url: 'http://evil.example/' })
      .expect(200);
    await waitFor('the stored event', () => readDeliveries(out).length > 0);
    assert.deepEqual(api.requests[0]!.query, { studyId, uploadId: 'u-zip' });
  });

  it('turns a recording over maxBytes into a dead letter without retrying', async () => {
    t = await start({ options: { maxBytes: 100 } });
    await request(t.gateway.app!).post('/sensorlogger/pilot').send(uploaded('u-zip')).expect(200);
    const queue = new Queue(sinkQueueName('fetch'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    try {
      const [failed] = await waitFor('a dead letter', async () => {
        const f = await queue.getFailed();
        return f.length > 0 && f;
      });
      assert.equal(failed!.attemptsMade, 1);
      assert.match(failed!.failedReason, /larger than 100 bytes/);
    } finally {
      await queue.close();
    }
  });
});
