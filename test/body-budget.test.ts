import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { sleep, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const ORIGIN = 'https://www.labvanced.com';
const KiB = 1024;

/** A raw connection that collects what the gateway answers. */
function open(port: number): { socket: Socket; received: () => string; closed: () => boolean } {
  const socket = connect(port, '127.0.0.1');
  let out = '';
  let closed = false;
  socket.on('data', (c) => (out += String(c)));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  return { socket, received: () => out, closed: () => closed };
}

function head(length: number): string {
  return `POST /labvanced/lab/recordTrial HTTP/1.1\r\nHost: x\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
}

/** A recordTrial body of exactly `size` bytes. */
function trial(size: number, session: string): Buffer {
  const base = JSON.stringify({
    expSessionNr: session,
    trialNr: 1,
    recTaskId: 1,
    recData: { data: { x: '' } },
  });
  return Buffer.from(base.replace('"x":""', `"x":"${'a'.repeat(size - base.length)}"`));
}

/**
 * `server.maxBodyBytesInFlight`: the bodies one process holds at once are bounded, whatever the
 * number of senders (each route's limit bounds one request only: 24 concurrent 16 MiB Labvanced
 * bodies took the process to 1.3 GB and /healthz to 2.7 s). Bytes count as they arrive.
 */
describe('request bodies in flight are bounded per process (server.maxBodyBytesInFlight)', function () {
  this.timeout(30000);
  let t: TestGateway;
  let port: number;
  before(async () => {
    t = await startGateway({
      server: { port: 0, host: '127.0.0.1', maxBodyBytesInFlight: 512 * KiB },
      platforms: { labvanced: { namespaces: { lab: {} } } },
    });
    port = await t.gateway.listen(0, '127.0.0.1');
  });
  after(async () => {
    await t?.close();
  });

  it('answers 503 SH_BUSY (CORS, Retry-After) to a large body that would go over it, lets a small one in, and takes the large one once the other is done', async () => {
    const held = trial(400 * KiB, 'held');
    const a = open(port);
    // A body of 400 KiB, 300 KiB of it sent: held by the gateway, not answered yet.
    await new Promise((r) => a.socket.write(head(held.length), r));
    // why: resolved once the kernel has the bytes; on loopback the gateway reads them within
    // milliseconds. The pause only makes that sure: were they not yet read, the next request would get
    // 200 and this test fail, never pass wrongly.
    await new Promise((r) => a.socket.write(held.subarray(0, 300 * KiB), r));
    await sleep(200);
    assert.equal(a.received(), '', 'the first request was answered before its body was complete');

    const second = trial(300 * KiB, 'second');
    const b = open(port);
    b.socket.write(Buffer.concat([Buffer.from(head(second.length)), second]));
    await waitFor('the second reply', () => b.received().includes('\r\n\r\n{'));
    const reply = b.received();
    assert.match(reply, /^HTTP\/1\.1 503 /, reply);
    assert.match(reply, /"code":"SH_BUSY"/);
    assert.match(reply, /Retry-After: 1/i);
    assert.match(reply, new RegExp(`Access-Control-Allow-Origin: ${ORIGIN}`, 'i'));
    await waitFor('the refused connection to close', () => b.closed());

    // A small call from a sender that never calls again (here Labvanced's fire-and-forget
    // finishExpSession) still gets in: a 503 would lose it.
    const small = Buffer.from(JSON.stringify({ expSessionNr: 'small', end_time: 1 }));
    const d = open(port);
    d.socket.write(
      Buffer.concat([
        Buffer.from(head(small.length).replace('/recordTrial', '/finishExpSession')),
        small,
      ]),
    );
    await waitFor('the small reply', () => d.received().includes('\r\n\r\n{'));
    assert.match(d.received(), /^HTTP\/1\.1 200 /, d.received());
    d.socket.destroy();

    // The first body completes: accepted, and its bytes are given back.
    a.socket.write(held.subarray(300 * KiB));
    await waitFor('the first reply', () => a.received().includes('{"success":true}'));
    assert.match(a.received(), /^HTTP\/1\.1 200 /);
    a.socket.destroy();

    const c = open(port);
    c.socket.write(Buffer.concat([Buffer.from(head(second.length)), second]));
    await waitFor('the retried reply', () => c.received().includes('\r\n\r\n{'));
    assert.match(c.received(), /^HTTP\/1\.1 200 /, c.received());
    c.socket.destroy();
  });

  it('lets one request alone through even when its body is larger than the budget', async () => {
    const big = trial(700 * KiB, 'alone');
    const c = open(port);
    c.socket.write(Buffer.concat([Buffer.from(head(big.length)), big]));
    await waitFor('the reply', () => c.received().includes('\r\n\r\n{'));
    assert.match(c.received(), /^HTTP\/1\.1 200 /, c.received().slice(0, 300));
    c.socket.destroy();
  });

  it('counts bytes as they arrive: a client declaring a large body and sending none holds nothing', async () => {
    const idle = open(port);
    idle.socket.write(head(400 * KiB));
    const body = trial(400 * KiB, 'beside-idle');
    const c = open(port);
    c.socket.write(Buffer.concat([Buffer.from(head(body.length)), body]));
    await waitFor('the reply', () => c.received().includes('\r\n\r\n{'));
    assert.match(c.received(), /^HTTP\/1\.1 200 /, c.received().slice(0, 300));
    c.socket.destroy();
    idle.socket.destroy();
  });
});
