import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { adapters } from '../adapters/index.js';
import { logSecretKeys } from '../src/adapter/secrets.js';
import { createLogger } from '../src/log/logger.js';
import { routes } from './fixtures/labvanced/routes.js';
import { recordingSink, startGateway, type TestGateway } from './helpers/gateway.js';
import { queuedEvents } from './helpers/quarantine.js';

function capture(secretValues: string[] = []): {
  lines: string[];
  logger: ReturnType<typeof createLogger>;
} {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _e, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return {
    lines,
    logger: createLogger({
      level: 'debug',
      secretValues: new Set(secretValues),
      secretKeys: logSecretKeys(adapters),
      destination,
    }),
  };
}
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('logger: secrets never reach a line', () => {
  it("censors secret field names (the platforms' secret headers and fields among them) at any depth and in arrays, leaving other fields and the caller's object as they were", async () => {
    const { lines, logger } = capture();
    const headers = {
      authorization: 'Bearer abc-123',
      'X-Prolific-Request-Signature': 'sig-xyz',
      'x-actigraph-hook-secret': 'hook-77',
      'content-type': 'application/json',
    };
    const fields = {
      requestId: 'r1',
      request: { headers },
      items: [{ secretCode: 'code-1' }, { ok: 1 }],
      deep: { a: { b: { c: { token: 'tok-9' } } } },
    };
    logger.info(fields, 'hello');
    await flush();
    const line = JSON.parse(lines[0]!) as typeof fields;
    assert.equal(line.request.headers.authorization, '[redacted]');
    assert.equal(line.request.headers['X-Prolific-Request-Signature'], '[redacted]');
    assert.equal(
      (line.request.headers as Record<string, string>)['x-actigraph-hook-secret'],
      '[redacted]',
    );
    assert.equal(line.request.headers['content-type'], 'application/json');
    assert.deepEqual(line.items, [{ secretCode: '[redacted]' }, { ok: 1 }]);
    assert.equal(line.deep.a.b.c.token, '[redacted]');
    assert.equal(line.requestId, 'r1');
    assert.equal(headers.authorization, 'Bearer abc-123'); // copy on write: the caller's object is untouched
    for (const s of ['abc-123', 'sig-xyz', 'hook-77', 'code-1', 'tok-9'])
      assert.ok(!lines[0]!.includes(s), s);
  });

  it('censors fields of a logged error and scrubs configured secret values from messages', async () => {
    const { lines, logger } = capture(['lab-secret-value']);
    const err = Object.assign(new Error('upstream refused lab-secret-value'), {
      request: { headers: { Authorization: 'Basic dXNlcjpwdw==' } },
    });
    logger.error({ err }, 'failed');
    await flush();
    const line = JSON.parse(lines[0]!) as {
      err: { message: string; stack: string; request: { headers: { Authorization: string } } };
    };
    assert.equal(line.err.request.headers.Authorization, '[redacted]');
    assert.match(line.err.message, /upstream refused \*{8}/);
    assert.equal(typeof line.err.stack, 'string');
    assert.ok(!lines[0]!.includes('dXNlcjpwdw=='));
  });
});

describe('logger: the access line', () => {
  let t: TestGateway;
  // why: no workers, so the event is still in its sink's queue right after the ack.
  before(async () => {
    t = await startGateway(
      (dir) => ({
        platforms: { labvanced: { namespaces: { lab: {} } } },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: join(dir, 'out.jsonl') } }],
      }),
      { roles: { api: true, worker: false } },
    );
  });
  after(async () => {
    await t.close();
  });

  const accessLines = (): Record<string, unknown>[] =>
    t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['msg'] === 'request');

  it('names the namespace, the route pattern, and the type and id of every event the request published', async () => {
    const res = await request(t.gateway.app!)
      .post('/labvanced/lab/recordTrial')
      .set('Content-Type', 'application/json')
      .set('X-Request-Id', 'req-access-1')
      .send(routes.recordTrial.body)
      .expect(200);
    assert.deepEqual(res.body, { success: true });
    const [stored, more] = await queuedEvents(t.prefix, 'rec');
    assert.equal(more, undefined);
    const line = accessLines().find((l) => l['requestId'] === 'req-access-1');
    assert.ok(line, 'an access line for the request');
    assert.equal(typeof line['time'], 'number');
    assert.equal(typeof line['ms'], 'number');
    delete line['time'];
    delete line['ms'];
    assert.deepEqual(line, {
      level: 30,
      service: 'studyhook',
      requestId: 'req-access-1',
      method: 'POST',
      platform: 'labvanced',
      namespace: 'lab',
      route: 'recordTrial',
      status: 200,
      types: ['labvanced.trial.recorded'],
      events: [stored!.id],
      msg: 'request',
    });
  });

  it('is written for a refused request too, with no events', async () => {
    await request(t.gateway.app!)
      .get('/labvanced/lab/recordTrial')
      .set('X-Request-Id', 'req-access-2')
      .expect(405);
    const line = accessLines().find((l) => l['requestId'] === 'req-access-2');
    assert.ok(line);
    assert.equal(line['status'], 405);
    assert.equal(line['namespace'], 'lab');
    assert.deepEqual(line['events'], []);
    assert.deepEqual(line['types'], []);
  });
});
