import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardRequests } from '../src/http/guard-requests.js';
import type { Logger } from '../src/log/logger.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import {
  jobCount,
  jobEvent,
  labvancedUpload,
  leftovers,
  LABVANCED_ORIGIN,
  multipartBody,
  RawClient,
  requestHead,
  sha256,
} from './helpers/multipart.js';

const B = 'slowBoundary';
const SINK = 'rec';
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('upload timeouts: a stall limit for uploads, a total bound for the rest, both answered through the error reply', function () {
  this.timeout(30000);
  let t: TestGateway;
  let port: number;

  before(async () => {
    t = await startGateway(
      (dir) => ({
        archive: false,
        server: {
          port: 0,
          host: '127.0.0.1',
          headersTimeoutMs: 1000,
          requestTimeoutMs: 1000,
          uploadStallTimeoutMs: 300,
        },
        platforms: { labvanced: { namespaces: { x: {} } } },
        sinks: [{ name: SINK, module: recordingSink, options: { file: `${dir}/out.jsonl` } }],
      }),
      { roles: { api: true, worker: false } },
    );
    port = await t.gateway.listen(0, '127.0.0.1');
  });
  after(async () => {
    await t.close();
  });

  it('accepts an upload that keeps arriving for longer than the total bound of other routes', async () => {
    const file = Buffer.alloc(20 * 4096, 5);
    const body = multipartBody(B, labvancedUpload('slow', 'slow.webm', file));
    const c = new RawClient(port);
    await c.write(requestHead('/labvanced/x/file_upload', B, body.length, randomUUID()));
    // 20 pieces, 100 ms apart: about 2 s in all (requestTimeoutMs is 1 s), never 300 ms without a byte.
    const step = Math.ceil(body.length / 20);
    for (let at = 0; at < body.length; at += step) {
      await c.write(body.subarray(at, at + step));
      await pause(100);
    }
    const reply = await waitFor('the reply', () => c.reply());
    c.socket.destroy();
    assert.equal(reply.status, 200, reply.body);
    const event = await jobEvent(
      t.prefix,
      SINK,
      (JSON.parse(reply.body) as { file_guid: string }).file_guid,
    );
    assert.equal((event?.data['file'] as { sha256: string } | undefined)?.sha256, sha256(file));
  });

  it('answers an upload that stalls 408 with a JSON body and CORS headers, removes its partial file and closes the connection', async () => {
    const id = randomUUID();
    const before = await jobCount(t.prefix, SINK);
    const body = multipartBody(
      B,
      labvancedUpload('stalled', 'stalled.webm', Buffer.alloc(1024 * 1024, 6)),
    );
    const c = new RawClient(port);
    await c.write(
      Buffer.concat([
        Buffer.from(requestHead('/labvanced/x/file_upload', B, body.length, id)),
        body.subarray(0, 256 * 1024),
      ]),
    );
    const reply = await waitFor('the reply', () => c.reply());
    assert.equal(reply.status, 408);
    assert.equal(JSON.parse(reply.body).code, 'SH_REQUEST_TIMEOUT');
    assert.equal(reply.headers['access-control-allow-origin'], LABVANCED_ORIGIN);
    assert.equal(reply.headers['x-request-id'], id);
    await waitFor('the gateway to close the connection', () => c.closed);
    assert.equal(await jobCount(t.prefix, SINK), before);
    const left = await leftovers(t.dataDir, t.prefix, SINK);
    assert.deepEqual([left.partials, left.orphans], [[], []]);
  });

  it('answers a data route whose body takes longer than requestTimeoutMs 408 with CORS headers, and closes the connection', async () => {
    const id = randomUUID();
    const c = new RawClient(port);
    await c.write(
      `POST /labvanced/x/recordTrial HTTP/1.1\r\nHost: x\r\nOrigin: ${LABVANCED_ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nX-Request-Id: ${id}\r\n\r\n{"expSessionNr":`,
    );
    const drip = setInterval(() => {
      if (!c.socket.destroyed) c.socket.write('1');
    }, 100);
    try {
      const reply = await waitFor('the reply', () => c.reply());
      assert.equal(reply.status, 408);
      assert.equal(JSON.parse(reply.body).code, 'SH_REQUEST_TIMEOUT');
      assert.equal(reply.headers['access-control-allow-origin'], LABVANCED_ORIGIN);
      assert.equal(reply.headers['x-request-id'], id);
      await waitFor('the gateway to close the connection', () => c.closed);
    } finally {
      clearInterval(drip);
    }
  });

  it('closes the connection of a client that keeps sending a body nobody reads after its reply', async () => {
    const c = new RawClient(port);
    // A refused Origin is answered before the body is read; node would read the rest for as long as it comes.
    await c.write(
      'POST /labvanced/x/recordTrial HTTP/1.1\r\nHost: x\r\nOrigin: https://elsewhere.example\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    const drip = setInterval(() => {
      if (!c.socket.destroyed) c.socket.write(' ');
    }, 100);
    try {
      assert.equal((await waitFor('the reply', () => c.reply())).status, 403);
      await waitFor('the gateway to close the connection', () => c.closed);
    } finally {
      clearInterval(drip);
    }
  });
});

describe('request guards', () => {
  it('logs an error on a response instead of letting it end the process, and closes that connection', async () => {
    const logged: unknown[] = [];
    let calls = 0;
    // why a write after the end: node emits 'error' on the response, which ends a process that has no listener.
    const server = createServer(
      guardRequests(
        (req, res) => {
          res.end('first');
          if (++calls === 1) res.write('after the end');
        },
        1000,
        {
          warn: (obj: unknown) => {
            logged.push(obj);
          },
        } as unknown as Pick<Logger, 'warn'>,
      ),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      assert.equal(await (await fetch(url)).text(), 'first');
      await waitFor('the error to be logged', () => logged.length === 1);
      assert.equal(await (await fetch(url)).text(), 'first');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
