import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeReply } from '../src/http/write-reply.js';
import type { Reply } from '../src/adapter/types.js';

/** One reply through a real node:http server; the raw header lines as the client got them. */
async function roundTrip(
  reply: Reply,
  base: Record<string, string>,
): Promise<{ res: IncomingMessage; raw: string[][]; body: string }> {
  const server = createServer((req, res) => writeReply(req, res, reply, base));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const req = request({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      method: 'POST',
      path: '/',
    });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let body = '';
    for await (const chunk of res) body += String(chunk);
    const raw: string[][] = [];
    for (let i = 0; i < res.rawHeaders.length; i += 2)
      raw.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
    return { res, raw, body };
  } finally {
    server.close();
  }
}

describe('writeReply', () => {
  it('lets a reply header replace a base header of another case, once, and keeps the other base headers', async () => {
    const base = {
      Vary: 'Origin',
      'Access-Control-Allow-Origin': 'https://www.labvanced.com',
      'X-Request-Id': 'r1',
    };
    const { res, raw, body } = await roundTrip(
      { status: 201, headers: { vary: 'Accept-Encoding' }, body: { ok: true } },
      base,
    );
    assert.equal(res.statusCode, 201);
    assert.deepEqual(
      raw.filter(([k]) => k === 'vary'),
      [['vary', 'Accept-Encoding']],
    );
    assert.equal(res.headers['access-control-allow-origin'], 'https://www.labvanced.com');
    assert.equal(res.headers['x-request-id'], 'r1');
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)));
    assert.deepEqual(JSON.parse(body), { ok: true });
  });

  it('takes the Content-Type a reply names, in any case, over the one it would choose', async () => {
    const { raw } = await roundTrip(
      { status: 200, headers: { 'content-type': 'text/plain' }, body: 'plain' },
      { 'X-Request-Id': 'r2' },
    );
    assert.deepEqual(
      raw.filter(([k]) => k === 'content-type'),
      [['content-type', 'text/plain']],
    );
  });
});
