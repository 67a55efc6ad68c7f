import assert from 'node:assert/strict';
import request from 'supertest';
import { startFakeSensorLogger, type FakeSensorLogger } from './helpers/fake-sensorlogger.js';
import { startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { makeZip } from './helpers/make-zip.js';

const CODE = 'sl-study-secret-code';
const example = new URL('../examples/sinks/sensorlogger-report.js', import.meta.url).pathname;

function csv(header: string, rows: number, row: (i: number) => string): string {
  return [header, ...Array.from({ length: rows }, (_, i) => row(i))].join('\r\n');
}

describe('examples/sinks/sensorlogger-report.js (Notify & Respond starting point)', () => {
  let api: FakeSensorLogger;
  let t: TestGateway | undefined;
  beforeEach(async () => {
    api = await startFakeSensorLogger(CODE);
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await api.close();
  });

  it('loads through the real loader and responds with a Markdown report of samples and duration per sensor', async () => {
    api.files.set('study-1/u-1', {
      data: makeZip([
        // `time` in Unix nanoseconds: 101 samples 10 ms apart, given out of order.
        {
          name: 'Accelerometer.csv',
          data: csv(
            'time,seconds_elapsed,z,y,x',
            101,
            (i) => `${1700000000000000000 + (100 - i) * 10000000},${(100 - i) / 100},0.1,0.2,9.8`,
          ),
        },
        {
          name: 'Gyroscope.csv',
          data: `\uFEFF${csv('"seconds_elapsed",z,y,x', 51, (i) => `${i * 0.04},0,0,0`)}\n`,
        },
        { name: 'Compass.csv', data: csv('magneticBearing', 3, () => '90') },
        { name: 'Metadata.csv', data: 'version,device\n1,phone\n' },
        { name: 'StudyMetadata.json', data: '{}' },
      ]),
      contentType: 'application/zip',
    });
    t = await startGateway({
      platforms: { sensorlogger: { client: { baseUrl: api.url } } },
      sinks: [
        { name: 'fetch', use: 'sensorlogger-fetch' },
        {
          name: 'report',
          module: example,
          options: { title: 'Walking test' },
          filter: { types: ['sensorlogger.recording.stored'] },
        },
      ],
    });
    await request(t.gateway.app!)
      .post('/sensorlogger/walk')
      .send({ studyId: 'study-1', uploadId: 'u-1', secretCode: CODE })
      .expect(200);
    const posted = await waitFor('the report', () =>
      api.requests.find((r) => r.path === '/api/study/webhook/v1'),
    );
    assert.equal(posted.method, 'POST');
    assert.equal(posted.headers['content-type'], 'text/markdown');
    assert.equal(posted.headers.authorization, CODE);
    assert.deepEqual(posted.query, { studyId: 'study-1', uploadId: 'u-1' });
    const md = posted.body.toString('utf8');
    assert.match(md, /^# Walking test\n/);
    assert.match(md, /\| Accelerometer \| 101 \| 1\.0 s \| 100\.0 Hz \|/);
    assert.match(md, /\| Gyroscope \| 51 \| 2\.0 s \| 25\.0 Hz \|/);
    assert.match(md, /\| Compass \| 3 \| n\/a \| n\/a \|/);
    assert.doesNotMatch(md, /Metadata/);
    assert.match(md, /Total duration: 2\.0 s/);
  });
});
