import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { adapters } from '../adapters/index.js';
import { logSecretKeys } from '../src/adapter/secrets.js';
import { accessLogger, createLogger } from '../src/log/logger.js';

function capture(secretValues: string[] = []): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  return { lines, logger: createLogger({ level: 'debug', secretValues: new Set(secretValues), secretKeys: logSecretKeys(adapters), destination }) };
}
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('logger: secrets never reach a line', () => {
  it('censors secret field names (the platforms\' secret headers and fields among them) at any depth and in arrays, leaving other fields and the caller\'s object as they were', async () => {
    const { lines, logger } = capture();
    const headers = { authorization: 'Bearer abc-123', 'X-Prolific-Request-Signature': 'sig-xyz', 'x-actigraph-hook-secret': 'hook-77', 'content-type': 'application/json' };
    const fields = { requestId: 'r1', request: { headers }, items: [{ secretCode: 'code-1' }, { ok: 1 }], deep: { a: { b: { c: { token: 'tok-9' } } } } };
    logger.info(fields, 'hello');
    await flush();
    const line = JSON.parse(lines[0]!) as typeof fields;
    assert.equal(line.request.headers.authorization, '[redacted]');
    assert.equal(line.request.headers['X-Prolific-Request-Signature'], '[redacted]');
    assert.equal((line.request.headers as Record<string, string>)['x-actigraph-hook-secret'], '[redacted]');
    assert.equal(line.request.headers['content-type'], 'application/json');
    assert.deepEqual(line.items, [{ secretCode: '[redacted]' }, { ok: 1 }]);
    assert.equal(line.deep.a.b.c.token, '[redacted]');
    assert.equal(line.requestId, 'r1');
    assert.equal(headers.authorization, 'Bearer abc-123'); // copy on write: the caller's object is untouched
    for (const s of ['abc-123', 'sig-xyz', 'hook-77', 'code-1', 'tok-9']) assert.ok(!lines[0]!.includes(s), s);
  });

  it('censors fields of a logged error and scrubs configured secret values from messages', async () => {
    const { lines, logger } = capture(['lab-secret-value']);
    const err = Object.assign(new Error('upstream refused lab-secret-value'), { request: { headers: { Authorization: 'Basic dXNlcjpwdw==' } } });
    logger.error({ err }, 'failed');
    await flush();
    const line = JSON.parse(lines[0]!) as { err: { message: string; stack: string; request: { headers: { Authorization: string } } } };
    assert.equal(line.err.request.headers.Authorization, '[redacted]');
    assert.match(line.err.message, /upstream refused \*{8}/);
    assert.equal(typeof line.err.stack, 'string');
    assert.ok(!lines[0]!.includes('dXNlcjpwdw=='));
  });
});

describe('logger: the access line', () => {
  const entry = { requestId: 'req-1.a_b', method: 'POST', platform: 'labvanced', route: 'recordTrial', status: 200, ms: 2.6 };
  const withoutTime = (line: string): Record<string, unknown> => { const o = JSON.parse(line) as Record<string, unknown>; assert.equal(typeof o['time'], 'number'); delete o['time']; return o; };

  it('is the line logger.info would write, key for key and in the same order, and a child\'s bindings are on it', async () => {
    const { lines, logger } = capture();
    for (const l of [logger, logger.child({ worker: 'w1' })]) {
      lines.length = 0;
      accessLogger(l)(entry);
      l.info({ ...entry }, 'request');
      await flush();
      assert.equal(lines.length, 2);
      assert.deepEqual(Object.entries(withoutTime(lines[0]!)), Object.entries(withoutTime(lines[1]!)));
      assert.ok(lines[0]!.endsWith('}\n'));
    }
    assert.equal(withoutTime(lines[0]!)['worker'], 'w1');
  });

  it('follows the level, goes through the secret-value scrub, and falls back to logger.info for a logger from elsewhere', async () => {
    const { lines, logger } = capture(['recordTrial']);
    const access = accessLogger(logger);
    access(entry);
    logger.level = 'warn';
    access(entry); // why: the same writer, as the ingest handler keeps one: it must read the level per line
    await flush();
    assert.equal(lines.length, 1);
    assert.equal(withoutTime(lines[0]!)['route'], '********');
    const other: string[] = [];
    const foreign = pino({ messageKey: 'message' }, { write: (l: string) => { other.push(l); } });
    accessLogger(foreign)(entry);
    assert.equal(JSON.parse(other[0]!).message, 'request');
  });
});

