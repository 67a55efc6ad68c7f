import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { waitFor } from './helpers/gateway.js';
import {
  jobCount,
  jobEvent,
  labvancedUpload,
  leftovers,
  LABVANCED_ORIGIN,
  multipartBody,
  RawClient,
  rawPost,
  requestHead,
  sha256,
  type Part,
  type RawReply,
} from './helpers/multipart.js';
import { type Studyhook } from './helpers/processes.js';
import { startUploadGateway, type UploadGateway } from './helpers/upload-gateway.js';

const MB = 1024 * 1024;
const B = 'x1';
const PATH = '/labvanced/x/file_upload';
const SINK = 'rec';

describe('multipart uploads to a gateway process: no request takes it down, nothing is left behind', function () {
  this.timeout(60000);
  let dir: string;
  let port: number;
  let prefix: string;
  let gw: Studyhook;
  let sessions = 0;

  let g: UploadGateway;
  const healthy = (): Promise<boolean> => g.healthy();

  before(async () => {
    g = await startUploadGateway('multipart', SINK);
    ({ dir, port, prefix, gw } = g);
  });
  after(async () => {
    await g?.close();
  });
  /** Waits until the gateway has answered (or given up on) a request: its access line is written after the cleanup. */
  const answered = (requestId: string): Promise<unknown> =>
    waitFor(`the access line of ${requestId}`, () =>
      gw.output().includes(`"requestId":"${requestId}"`),
    );

  async function assertIntact(what: string): Promise<void> {
    assert.equal(
      gw.proc.exitCode,
      null,
      `${what}: the gateway exited\n${gw.output().slice(-2000)}`,
    );
    assert.equal(gw.proc.signalCode, null, `${what}: the gateway was killed`);
    assert.ok(await healthy(), `${what}: /healthz does not answer`);
    const left = await leftovers(dir, prefix, SINK);
    assert.deepEqual(left.partials, [], `${what}: partial files left`);
    assert.deepEqual(left.orphans, [], `${what}: blobs nothing refers to`);
    assert.deepEqual(left.missing, [], `${what}: references to blobs that are gone`);
  }

  async function post(
    parts: readonly Part[] | Buffer,
    opts: { boundary?: string | undefined; type?: string } = {},
  ): Promise<{ reply: RawReply; jobs: number }> {
    const body = Buffer.isBuffer(parts) ? parts : multipartBody(B, parts);
    const before = await jobCount(prefix, SINK);
    const head = opts.type
      ? requestHead(PATH, B, body.length, randomUUID(), { 'Content-Type': opts.type })
      : requestHead(PATH, 'boundary' in opts ? opts.boundary : B, body.length, randomUUID());
    const reply = await rawPost(port, head, body);
    assert.ok(reply, 'no reply');
    return { reply, jobs: (await jobCount(prefix, SINK)) - before };
  }

  async function validUploadWorks(what: string): Promise<void> {
    const bytes = Buffer.from(`recording ${++sessions} ${randomUUID()}`);
    const { reply, jobs } = await post(
      labvancedUpload(`ok-${sessions}`, `ok-${sessions}.webm`, bytes),
    );
    assert.equal(
      reply.status,
      200,
      `${what}: the next valid upload got ${reply.status} ${reply.body}`,
    );
    assert.equal(jobs, 1, `${what}: the next valid upload was not queued`);
  }

  it('answers 400 with CORS headers to a form without its closing delimiter (issue 21) and stays up', async () => {
    const body = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="expSessionNr"\r\n\r\n42\r\n--${B}\r\nContent-Disposition: form-data; name="newFileName"\r\n\r\na.webm\r\n--${B}\r\nContent-Disposition: form-data; name="myFile"; filename="a.webm"\r\nContent-Type: video/webm\r\n\r\nK\r\n`,
    );
    const { reply, jobs } = await post(body);
    assert.equal(reply.status, 400);
    assert.equal(JSON.parse(reply.body).code, 'SH_BAD_BODY');
    assert.equal(reply.headers['access-control-allow-origin'], LABVANCED_ORIGIN);
    assert.equal(jobs, 0);
    await assertIntact('no closing delimiter');
    await validUploadWorks('no closing delimiter');
  });

  it('stays up and keeps nothing when the connection is reset at any phase of an upload', async () => {
    // why 12 MiB: in a bucket a multipart upload (the partial file) exists only once a 5 MiB part is complete.
    const body = multipartBody(B, labvancedUpload('cut', 'cut.webm', Buffer.alloc(12 * MB, 7)));
    // why small: a reset discards what the client's kernel has not sent yet, so only a body that fits in one segment surely arrives whole.
    const small = multipartBody(B, labvancedUpload('whole', 'whole.webm', 'a short recording'));
    const fileStart = body.indexOf('video/webm\r\n\r\n') + 14;
    const inPartHeader = body.indexOf('name="newFileName"') + 8;
    // Each phase: the bytes sent before the reset, and whether the gateway sees a request at all.
    const phases: {
      name: string;
      body?: Buffer;
      bytes: number;
      seen: boolean;
      waitForPart?: boolean;
      delayMs?: number[];
    }[] = [
      { name: 'before the headers end', bytes: -1, seen: false },
      { name: 'inside a part header', bytes: inPartHeader, seen: true },
      // why: busboy fails a file stream at once while the blob store is still creating its file (the crash of issue 21).
      {
        name: 'right after a file part header',
        bytes: fileStart,
        seen: true,
        delayMs: [0, 0, 0, 1, 1, 2, 2, 3],
      },
      {
        name: 'in the middle of the file',
        bytes: fileStart + 6 * MB,
        seen: true,
        waitForPart: true,
      },
      { name: 'before the reply', body: small, bytes: small.length, seen: true },
    ];
    for (const phase of phases) {
      for (const delay of phase.delayMs ?? [0]) {
        const what = `reset ${phase.name}${delay ? ` (+${delay} ms)` : ''}`;
        const id = randomUUID();
        const before = await jobCount(prefix, SINK);
        const sent = phase.body ?? body;
        const head = requestHead(PATH, B, sent.length, id);
        const c = new RawClient(port);
        await c.write(
          phase.bytes < 0
            ? head.slice(0, head.length - 20)
            : Buffer.concat([Buffer.from(head), sent.subarray(0, phase.bytes)]),
        );
        if (phase.waitForPart)
          await waitFor(
            'a partial file',
            async () => (await leftovers(dir, prefix, SINK)).partials.length > 0,
          );
        if (delay) await new Promise((r) => setTimeout(r, delay));
        c.reset();
        if (phase.seen) await answered(id);
        assert.equal(c.reply(), undefined, `${what}: something was answered`);
        const jobs = (await jobCount(prefix, SINK)) - before;
        // why: a body that arrived whole may be kept (the browser left before the reply, like a closed tab): it
        // is, unless the reset is seen before the parser has read it all. Nothing else ever is.
        assert.ok(jobs === 0 || (jobs === 1 && phase.body === small), `${what}: ${jobs} jobs`);
        await assertIntact(what);
      }
    }
    await validUploadWorks('after the resets');
  });

  it('answers every malformed or oversized body with a 4xx, stays up and leaves nothing unreferenced', async () => {
    const file = (
      name: string | undefined,
      value: string | Buffer = 'bytes',
      filename = 'a.webm',
    ): Part => ({ ...(name !== undefined && { name }), filename, type: 'video/webm', value });
    const field = (name: string | undefined, value: string): Part => ({
      ...(name !== undefined && { name }),
      value,
    });
    // why: the delimiter is CRLF "--x1"; these bytes hold every shorter prefix of it and "--x1" without the CRLF, split across reads.
    // (Not at the very start: the header's last CRLF and a leading "--x1" would make the delimiter.)
    const tricky = Buffer.from(`a${'--x1 \r\n--x2 \r\n-x1 \r\n--\r\n--x\r\n- x1--'.repeat(1000)}`);
    const cases: {
      name: string;
      body: readonly Part[] | Buffer;
      status: number;
      opts?: { boundary?: string | undefined; type?: string };
      sha256?: string;
    }[] = [
      {
        name: 'no boundary parameter',
        body: labvancedUpload('1', 'a.webm', 'x'),
        status: 400,
        opts: { boundary: undefined },
      },
      {
        name: 'not multipart at all',
        body: Buffer.from('{"expSessionNr":1}'),
        status: 415,
        opts: { type: 'application/json' },
      },
      { name: 'an empty body', body: Buffer.alloc(0), status: 400 },
      {
        name: 'a part header over 16 KiB',
        body: [
          {
            raw: `Content-Disposition: form-data; name="a"\r\nX-Pad: ${'p'.repeat(20000)}`,
            value: 'v',
          },
        ],
        status: 400,
      },
      {
        name: 'thousands of parts without a name',
        body: [
          ...labvancedUpload('2', 'a.webm', 'x'),
          ...Array.from({ length: 5000 }, (): Part => ({ raw: 'X-Nothing: 1', value: 'zz' })),
        ],
        status: 413,
      },
      {
        name: 'thousands of fields',
        body: Array.from({ length: 3000 }, (_, i) => field(`f${i}`, 'v')),
        status: 413,
      },
      {
        name: 'five files',
        body: [field('expSessionNr', '3'), ...Array.from({ length: 5 }, (_, i) => file(`f${i}`))],
        status: 413,
      },
      {
        name: 'a field over 4 KiB after the file',
        body: [
          file('myFile', Buffer.alloc(64 * 1024, 1)),
          field('expSessionNr', '4'),
          field('newFileName', 'n'.repeat(4097)),
        ],
        status: 413,
      },
      {
        name: 'fields over 16 KiB in all',
        body: [
          field('expSessionNr', '5'),
          file('myFile'),
          ...Array.from({ length: 5 }, (_, i) => field(`n${i}`, 'n'.repeat(4000))),
        ],
        status: 413,
      },
      {
        name: 'a file part without a name',
        body: [field('expSessionNr', '6'), file(undefined)],
        status: 422,
      },
      {
        name: 'a field without a name',
        body: [field('expSessionNr', '7'), field(undefined, 'v'), file('myFile')],
        status: 422,
      },
      {
        name: 'a duplicated field',
        body: [field('expSessionNr', '8'), field('expSessionNr', '9'), file('myFile')],
        status: 422,
      },
      {
        name: 'the file sent twice',
        body: [field('expSessionNr', '10'), file('myFile'), file('myFile', 'other')],
        status: 422,
      },
      {
        name: 'a file named __proto__',
        body: [field('expSessionNr', '11'), file('__proto__')],
        status: 422,
      },
      {
        name: 'a file named constructor',
        body: [field('expSessionNr', '12'), file('constructor')],
        status: 422,
      },
      {
        name: 'a file without a file name',
        body: [
          field('expSessionNr', '14'),
          { name: 'myFile', value: 'raw', type: 'application/octet-stream' },
        ],
        status: 200,
      },
      {
        name: 'fields named __proto__ and constructor',
        body: [
          field('__proto__', 'p'),
          field('constructor', 'c'),
          ...labvancedUpload('15', 'p.webm', 'x'),
        ],
        status: 200,
      },
      {
        name: 'the boundary and its prefixes inside the data',
        body: labvancedUpload('16', 'b.webm', tricky),
        status: 200,
        sha256: sha256(tricky),
      },
      {
        name: 'an empty file',
        body: labvancedUpload('17', 'e.webm', ''),
        status: 200,
        sha256: sha256(''),
      },
    ];
    for (const c of cases) {
      const { reply, jobs } = await post(c.body, c.opts);
      assert.equal(reply.status, c.status, `${c.name}: ${reply.status} ${reply.body}`);
      assert.equal(
        reply.headers['access-control-allow-origin'],
        LABVANCED_ORIGIN,
        `${c.name}: no CORS headers`,
      );
      assert.equal(jobs, c.status === 200 ? 1 : 0, `${c.name}: ${jobs} jobs`);
      if (c.sha256) {
        const event = await jobEvent(
          prefix,
          SINK,
          (JSON.parse(reply.body) as { file_guid: string }).file_guid,
        );
        assert.equal(
          (event?.data['file'] as { sha256: string } | undefined)?.sha256,
          c.sha256,
          `${c.name}: the stored bytes differ`,
        );
      }
      await assertIntact(c.name);
    }
    await validUploadWorks('after the malformed bodies');
  });

  interface Quarantined {
    payload: { fields: Record<string, string>; files: Record<string, { id: string }> };
    files?: { id: string; sha256: string }[];
    problems: { path: string }[];
  }
  async function quarantined(session: string): Promise<Quarantined> {
    const days = await readdir(join(dir, 'quarantine', 'labvanced', 'x'));
    const records = (
      await Promise.all(
        days.map((d) => readFile(join(dir, 'quarantine', 'labvanced', 'x', d), 'utf8')),
      )
    )
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Quarantined);
    const record = records.find((r) => r.payload.fields['expSessionNr'] === session);
    assert.ok(record, `no quarantine record for ${session}`);
    return record;
  }

  it('keeps a file part named __proto__ in quarantine under that name, not as the prototype of the files', async () => {
    const session = `proto-${randomUUID()}`;
    const { reply } = await post([
      { name: 'expSessionNr', value: session },
      { name: '__proto__', filename: 'p.webm', type: 'video/webm', value: 'proto bytes' },
    ]);
    assert.equal(reply.status, 422);
    const record = await quarantined(session);
    assert.deepEqual(Object.keys(record.payload.files), ['__proto__']);
    assert.equal(record.payload.files['__proto__']!.id, record.files?.[0]?.id);
  });

  it('keeps a request with two files in quarantine, both files referenced from its record, and publishes nothing', async () => {
    const session = `two-${randomUUID()}`;
    const { reply, jobs } = await post([
      ...labvancedUpload(session, 'a.webm', 'first file'),
      { name: 'extra', filename: 'b.webm', type: 'video/webm', value: 'second file' },
    ]);
    assert.equal(reply.status, 422);
    assert.equal(jobs, 0);
    const record = await quarantined(session);
    assert.deepEqual(
      record.files?.map((f) => f.sha256).sort(),
      [sha256('first file'), sha256('second file')].sort(),
    );
    assert.ok(record.problems.some((p) => p.path === '/files/extra'));
    const { blobs } = await leftovers(dir, prefix, SINK);
    for (const f of record.files!) assert.ok(blobs.includes(f.id), `blob ${f.id} is missing`);
    await assertIntact('two files');
  });

  it('never crashes nor leaves a file for any truncation of a valid upload, and acknowledges only the whole body', async () => {
    const body = multipartBody(B, labvancedUpload('SESSION', 'trunc.webm', Buffer.alloc(3000, 9)));
    // why: RFC 2046 makes the CRLF after the close delimiter optional, so the last two bytes may go.
    const complete = body.length - 2;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: body.length }),
        fc.constantFrom('declared', 'reset'),
        async (cut, mode) => {
          const session = String(++sessions);
          const sent = Buffer.from(
            body.toString('latin1').replace('SESSION', session.padStart(7, '0')),
            'latin1',
          );
          const id = randomUUID();
          const before = await jobCount(prefix, SINK);
          const c = new RawClient(port);
          if (mode === 'declared') {
            // The request is whole, its form is cut: Content-Length says `cut` bytes.
            await c.write(
              Buffer.concat([Buffer.from(requestHead(PATH, B, cut, id)), sent.subarray(0, cut)]),
            );
            await waitFor('a reply', () => c.reply());
          } else {
            // The request is cut: Content-Length says the whole body, the client resets after `cut` bytes.
            await c.write(
              Buffer.concat([
                Buffer.from(requestHead(PATH, B, sent.length, id)),
                sent.subarray(0, Math.min(cut, sent.length - 1)),
              ]),
            );
            c.reset();
            await answered(id);
          }
          c.socket.destroy();
          const status = c.reply()?.status;
          const acknowledged = status !== undefined && status < 300;
          if (status !== undefined) assert.ok(status < 500, `cut at ${cut}: ${status}`);
          assert.equal(
            acknowledged,
            mode === 'declared' && cut >= complete,
            `cut at ${cut} (${mode}): ${status}`,
          );
          assert.equal((await jobCount(prefix, SINK)) - before, acknowledged ? 1 : 0);
          await assertIntact(`cut at ${cut} (${mode})`);
        },
      ),
      {
        seed: 21,
        numRuns: 60,
        examples: [
          [0, 'declared'],
          [body.length, 'declared'],
          [complete, 'declared'],
          [complete - 1, 'declared'],
          [body.indexOf('\r\n\r\n', body.indexOf('myFile')) + 4, 'reset'],
        ],
      },
    );
  });
});
