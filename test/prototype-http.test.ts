import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import fc from 'fast-check';
import request from 'supertest';
import type { Envelope } from '../src/event/build-event.js';
import { jobIdOf } from '../src/event/build-event.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { routes } from './fixtures/labvanced/routes.js';
import { REDIS_URL, recordingSink, startGateway, type TestGateway } from './helpers/gateway.js';
import { PROTO_NAMES } from './helpers/proto-names.js';
import { actigraphSignature, prolificSignature } from './helpers/sign.js';

const SEED = 22;
const PROLIFIC_SECRET = 'proto-prolific-secret';
const PASSCODE = 'proto-actigraph-passcode';
const MDH_TOKEN = 'proto-mydatahelps-token-0123456789';
const CODE = 'proto-sensorlogger-code';
const ORIGIN = 'https://www.labvanced.com';
/** A namespace or route segment: every prototype name first, then ordinary ones that are not configured either. */
const name = fc.oneof(
  fc.constantFrom(...PROTO_NAMES),
  fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/).filter((n) => n !== 'locked'),
);
const examples = PROTO_NAMES.map((n) => [n] as [string]);

describe('prototype names over real HTTP, every platform (namespaces listed: only `locked`)', function () {
  this.timeout(60000);
  let t: TestGateway;
  let queue: Queue;
  const app = () => t.gateway.app!;
  const jobs = async () => {
    const c = await queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
    return Object.values(c).reduce((a, b) => a + b, 0);
  };
  const eventOf = async (id: string) => ((await queue.getJob(jobIdOf(id)))?.data as Envelope).event;

  before(async () => {
    // why: API only, no worker: every job a 2xx made is still in the queue, so it is counted right after the reply.
    t = await startGateway(
      {
        // why: this suite sends many refused tokens from one address; the failure limit has its own tests (security-forged).
        server: { port: 0, host: '127.0.0.1', verifyFailureLimit: { enabled: false } },
        platforms: {
          sensorlogger: { namespaces: { locked: { secretCodes: [CODE] } } },
          prolific: { namespaces: { locked: { secrets: [PROLIFIC_SECRET] } } },
          actigraph: { namespaces: { locked: { auth: 'hmac', passcodes: [PASSCODE] } } },
          mydatahelps: { namespaces: { locked: { tokens: [MDH_TOKEN] } } },
          labvanced: { namespaces: { locked: {} } },
        },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: '/dev/null' } }],
      },
      { roles: { api: true, worker: false } },
    );
    queue = new Queue(sinkQueueName('rec'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
  });
  after(async () => {
    await queue?.close();
    await t?.close();
  });

  /** A request that the `locked` namespace would accept, sent to namespace `ns` instead. */
  const valid: Record<string, (ns: string) => request.Test> = {
    sensorlogger: (ns) =>
      request(app())
        .post(`/sensorlogger/${ns}`)
        .send({ studyId: 's', uploadId: `u-${ns}`, secretCode: CODE }),
    prolific: (ns) => {
      const body = JSON.stringify({
        event_type: 'study.status.change',
        resource_id: `r-${ns}`,
        status: 'ACTIVE',
      });
      return request(app())
        .post(`/prolific/${ns}`)
        .set('Content-Type', 'application/json')
        .set('X-Prolific-Request-Timestamp', '1700000000')
        .set('X-Prolific-Request-Signature', prolificSignature(PROLIFIC_SECRET, '1700000000', body))
        .send(body);
    },
    actigraph: (ns) => {
      const body = JSON.stringify({
        status: 'completed',
        uploadId: `u-${ns}`,
        studyId: '8',
        subjectId: '2358',
      });
      return request(app())
        .post(`/actigraph/${ns}`)
        .set('Content-Type', 'application/json')
        .set('X-ActiGraph-Event', 'upload')
        .set('X-ActiGraph-Signature', actigraphSignature(PASSCODE, body))
        .send(body);
    },
    mydatahelps: (ns) =>
      request(app())
        .post(`/mydatahelps/${ns}/${MDH_TOKEN}`)
        .send({
          EventType: 'SurveySubmitted',
          ParticipantIdentifier: 'p',
          SurveyResultID: `r-${ns}`,
        }),
    labvanced: (ns) =>
      request(app())
        .post(`/labvanced/${ns}/recordTrial`)
        .set('Origin', ORIGIN)
        .send(routes.recordTrial.body),
  };

  it('accepts the valid request on `locked`, on every platform (the requests below differ only in the namespace)', async () => {
    for (const [platform, send] of Object.entries(valid)) {
      const res = await send('locked');
      assert.ok(res.status >= 200 && res.status < 300, `${platform}: ${res.status} ${res.text}`);
    }
    await queue.obliterate({ force: true });
  });

  for (const platform of Object.keys(valid)) {
    it(`answers 404 SH_UNKNOWN_NAMESPACE to ${platform} on a namespace named like a prototype member, and queues nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(name, async (ns) => {
          const res = await valid[platform]!(ns);
          assert.equal(res.status, 404, `${platform}/${ns}: ${res.status} ${res.text}`);
          assert.equal(res.body.code, 'SH_UNKNOWN_NAMESPACE', `${platform}/${ns}`);
          assert.equal(await jobs(), 0, `${platform}/${ns}: nothing queued`);
        }),
        { seed: SEED, numRuns: PROTO_NAMES.length + 20, examples },
      );
    });
  }

  it("does not answer ActiGraph's validation handshake on a prototype-named namespace (its code is not echoed)", async () => {
    await fc.assert(
      fc.asyncProperty(name, async (ns) => {
        const res = await request(app())
          .post(`/actigraph/${ns}`)
          .set('X-ActiGraph-Event', 'validation')
          .set('X-ActiGraph-Hook-Secret', 'echo-me')
          .send('{}');
        assert.equal(res.status, 404, `${ns}: ${res.status}`);
        assert.equal(res.headers['x-actigraph-hook-secret'], undefined);
      }),
      { seed: SEED, numRuns: PROTO_NAMES.length, examples },
    );
  });

  it('answers 404 SH_NOT_FOUND to a Labvanced route named like a prototype member, and 401 to a MyDataHelps token so named', async () => {
    await fc.assert(
      fc.asyncProperty(name, async (segment) => {
        const lv = await request(app())
          .post(`/labvanced/locked/${segment}`)
          .set('Origin', ORIGIN)
          .send(routes.recordTrial.body);
        assert.equal(lv.status, 404, `labvanced route ${segment}`);
        assert.equal(lv.body.code, 'SH_NOT_FOUND');
        const mdh = await request(app())
          .post(`/mydatahelps/locked/${segment}`)
          .send({ EventType: 'SurveySubmitted' });
        assert.equal(mdh.status, 401, `mydatahelps token ${segment}`);
        assert.equal(await jobs(), 0);
      }),
      { seed: SEED, numRuns: PROTO_NAMES.length + 20, examples },
    );
  });

  it('turns an ActiGraph event, a MyDataHelps EventType and a Prolific event_type named like a prototype member into a plain string type', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PROTO_NAMES), async (n) => {
        const ag = JSON.stringify({ studyId: '8', subjectId: '2358', status: 'completed' });
        const a = await request(app())
          .post('/actigraph/locked')
          .set('Content-Type', 'application/json')
          .set('X-ActiGraph-Event', n)
          .set('X-ActiGraph-Delivery', `d-${n}`)
          .set('X-ActiGraph-Signature', actigraphSignature(PASSCODE, ag))
          .send(ag);
        assert.equal(a.status, 200, `actigraph ${n}: ${a.text}`);
        const m = await request(app())
          .post(`/mydatahelps/locked/${MDH_TOKEN}`)
          .send({ EventType: n, ParticipantIdentifier: 'p' });
        assert.equal(m.status, 200, `mydatahelps ${n}: ${m.text}`);
        assert.equal((await eventOf(m.body.events[0])).type, `mydatahelps.${n.toLowerCase()}`);
        const body = JSON.stringify({ event_type: n, resource_id: `r-${n}` });
        const p = await request(app())
          .post('/prolific/locked')
          .set('Content-Type', 'application/json')
          .set('X-Prolific-Request-Timestamp', '1700000000')
          .set(
            'X-Prolific-Request-Signature',
            prolificSignature(PROLIFIC_SECRET, '1700000000', body),
          )
          .set('X-Event-ID', `e-${n}`)
          .send(body);
        assert.equal(p.status, 200, `prolific ${n}: ${p.text}`);
        assert.match((await eventOf(p.body.events[0])).type, /^prolific\.[a-z0-9_.]+$/);
      }),
      { seed: SEED, numRuns: PROTO_NAMES.length, examples },
    );
    const types = (await queue.getJobs(['waiting'])).map((j) => (j.data as Envelope).event.type);
    for (const type of types) assert.equal(typeof type, 'string');
    assert.ok(
      types.some((x) => x === 'actigraph.constructor'),
      types.join(', '),
    );
    await queue.obliterate({ force: true });
  });

  it('keeps body fields named like prototype members as data (Sensor Logger, Labvanced JSON)', async () => {
    const extra = Object.fromEntries(PROTO_NAMES.map((n) => [n, `v-${n}`]));
    const sl = await request(app())
      .post('/sensorlogger/locked')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ studyId: 's', uploadId: 'u-extra', secretCode: CODE, ...extra }));
    assert.equal(sl.status, 200, sl.text);
    const data = (await eventOf(sl.body.id)).data as Record<string, unknown>;
    for (const n of PROTO_NAMES)
      assert.equal(Object.hasOwn(data, n) ? data[n] : undefined, `v-${n}`, n);
    const trial = { ...routes.recordTrial.body, recData: { data: extra } };
    const lv = await request(app())
      .post('/labvanced/locked/recordTrial')
      .set('Origin', ORIGIN)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(trial));
    assert.equal(lv.status, 200, lv.text);
    const [job] = await queue
      .getJobs(['waiting'])
      .then((all) =>
        all.filter((j) => (j.data as Envelope).event.type === 'labvanced.trial.recorded'),
      );
    const vars = (
      (job!.data as Envelope).event.data as { recData: { data: Record<string, unknown> } }
    ).recData.data;
    for (const n of PROTO_NAMES)
      assert.equal(Object.hasOwn(vars, n) ? vars[n] : undefined, `v-${n}`, n);
    await queue.obliterate({ force: true });
  });

  it('keeps multipart fields named like prototype members (Labvanced /file_upload), `__proto__` included', async () => {
    // why: in groups, as an upload takes at most 16 fields.
    for (let i = 0; i < PROTO_NAMES.length; i += 12) {
      const names = PROTO_NAMES.slice(i, i + 12);
      let req = request(app())
        .post('/labvanced/locked/file_upload')
        .set('Origin', ORIGIN)
        .field('expSessionNr', '77')
        .field('newFileName', `a-${i}.txt`);
      for (const n of names) req = req.field(n, `v-${n}`);
      const res = await req.attach('myFile', Buffer.from('hello'), 'a.txt');
      assert.equal(res.status, 200, res.text);
      const data = (await eventOf(res.body.file_guid)).data as Record<string, unknown>;
      for (const n of names)
        assert.equal(Object.hasOwn(data, n) ? data[n] : undefined, `v-${n}`, n);
    }
    await queue.obliterate({ force: true });
  });
});
