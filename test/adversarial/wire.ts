import { connect, type Socket } from 'node:net';

/** How the bytes of a request reach the gateway. */
export type Delivery =
  | { kind: 'whole' }
  /** The whole request in `chunkBytes` pieces, `delayMs` apart. */
  | { kind: 'slow'; chunkBytes: number; delayMs: number }
  /** The first `at` bytes of the request, then after `afterMs` a TCP reset, a FIN, or nothing more (the socket kept open). */
  | { kind: 'cut'; at: number; afterMs: number; how: 'reset' | 'close' | 'hang' }
  /** The whole request, then a TCP reset `afterMs` later, before the reply is read. */
  | { kind: 'reset-before-reply'; afterMs: number };

/** A request written byte for byte on a raw socket (headers as given: duplicates, odd names and case allowed). */
export interface WireRequest {
  method: string;
  /** The request-target, written as is. */
  path: string;
  headers: readonly (readonly [string, string])[];
  body: Buffer;
  /** `length`: a Content-Length header is added; `chunked`: Transfer-Encoding chunked; `none`: neither. */
  framing: 'length' | 'chunked' | 'none';
  delivery: Delivery;
}

export interface WireResult {
  /** Undefined when no complete reply head arrived. */
  status?: number;
  headers: Record<string, string>;
  body: Buffer;
  /** True when every byte of the request was written. */
  sent: boolean;
  error?: string;
}

/** The request's bytes: request line, headers, blank line, framed body. */
export function wireBytes(r: WireRequest): Buffer {
  const lines = [`${r.method} ${r.path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of r.headers) lines.push(`${k}: ${v}`);
  if (!r.headers.some(([k]) => k.toLowerCase() === 'connection')) lines.push('Connection: close');
  let body = r.body;
  if (r.framing === 'length') lines.push(`Content-Length: ${r.body.length}`);
  if (r.framing === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    const parts: Buffer[] = [];
    for (let i = 0; i < r.body.length; i += 64 * 1024) {
      const c = r.body.subarray(i, i + 64 * 1024);
      parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    body = Buffer.concat(parts);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Parses a reply from `buf`; undefined until it is complete (`closed`: the server has closed the socket). */
function parseReply(
  buf: Buffer,
  closed: boolean,
  method: string,
): Omit<WireResult, 'sent'> | undefined {
  let start = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', start);
    if (end < 0) return undefined;
    const [statusLine, ...lines] = buf.subarray(start, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
    if (!Number.isFinite(status))
      return { headers: {}, body: buf, error: `not an HTTP reply: ${JSON.stringify(statusLine)}` };
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const rest = buf.subarray(end + 4);
    if (status >= 100 && status < 200) {
      start = end + 4;
      continue;
    } // interim (100 Continue)
    if (method === 'HEAD' || status === 204 || status === 304)
      return { status, headers, body: Buffer.alloc(0) };
    const length = headers['content-length'];
    if (length !== undefined)
      return rest.length >= Number(length)
        ? { status, headers, body: rest.subarray(0, Number(length)) }
        : undefined;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunks: Buffer[] = [];
      let at = 0;
      for (;;) {
        const eol = rest.indexOf('\r\n', at);
        if (eol < 0)
          return closed
            ? { status, headers, body: Buffer.concat(chunks), error: 'reply cut mid-chunk' }
            : undefined;
        const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
        if (size === 0) return { status, headers, body: Buffer.concat(chunks) };
        if (rest.length < eol + 2 + size + 2)
          return closed
            ? { status, headers, body: Buffer.concat(chunks), error: 'reply cut mid-chunk' }
            : undefined;
        chunks.push(rest.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
    }
    return closed ? { status, headers, body: rest } : undefined;
  }
}

/** Sends one request on its own connection and reads the reply (bounded by `timeoutMs`). */
export async function send(port: number, r: WireRequest, timeoutMs = 15000): Promise<WireResult> {
  const bytes = wireBytes(r);
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let received = Buffer.alloc(0);
  let closed = false;
  let socketError: string | undefined;
  let settle: () => void = () => undefined;
  const changed = () => settle();
  socket.on('data', (c: Buffer) => {
    received = Buffer.concat([received, c]);
    changed();
  });
  socket.on('error', (e) => {
    socketError = (e as NodeJS.ErrnoException).code ?? e.message;
    changed();
  });
  socket.on('close', () => {
    closed = true;
    changed();
  });
  const reply = () => parseReply(received, closed, r.method);
  const write = async (b: Buffer): Promise<void> => {
    if (closed || b.length === 0) return;
    if (!socket.write(b))
      await new Promise<void>((res) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          res();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
  };
  await new Promise<void>((res) => {
    socket.once('connect', res);
    socket.once('close', res);
  });
  let sent: boolean;
  const d = r.delivery;
  if (d.kind === 'whole' || d.kind === 'reset-before-reply') {
    await write(bytes);
    sent = !closed;
    if (d.kind === 'reset-before-reply') {
      await sleep(d.afterMs);
      socket.resetAndDestroy();
    }
  } else if (d.kind === 'slow') {
    for (let i = 0; i < bytes.length && !closed && !reply(); i += d.chunkBytes) {
      await write(bytes.subarray(i, i + d.chunkBytes));
      if (i + d.chunkBytes < bytes.length) await sleep(d.delayMs);
    }
    sent = !closed && !reply();
  } else {
    await write(bytes.subarray(0, Math.min(d.at, bytes.length)));
    sent = d.at >= bytes.length && !closed;
    await sleep(d.afterMs);
    if (d.how === 'reset') socket.resetAndDestroy();
    if (d.how === 'close') socket.end();
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = reply();
    if (got) {
      socket.destroy();
      return { ...got, sent };
    }
    if (closed || Date.now() > deadline) {
      socket.destroy();
      return {
        headers: {},
        body: received,
        sent,
        error: closed
          ? `closed without a complete reply${socketError ? ` (${socketError})` : ''}`
          : `no reply within ${timeoutMs} ms`,
      };
    }
    await new Promise<void>((res) => {
      settle = res;
      setTimeout(res, 200);
    });
  }
}

/** Byte offset just past the blank line that ends the request's head. */
export function headLength(r: WireRequest): number {
  return wireBytes(r).indexOf('\r\n\r\n') + 4;
}

/**
 * `r` with `X-Request-Id: id` as its first header; a cut after the request line moves by the added
 * bytes, so that it still falls at the same place of the request (a part header, the file...).
 */
export function withRequestId(r: WireRequest, id: string): WireRequest {
  const line = `X-Request-Id: ${id}\r\n`;
  const afterHost = wireBytes(r).indexOf('\r\n') + 2 + 'Host: 127.0.0.1\r\n'.length;
  const d = r.delivery;
  const delivery =
    d.kind === 'cut' && d.at >= afterHost ? { ...d, at: d.at + Buffer.byteLength(line) } : d;
  return { ...r, headers: [['X-Request-Id', id], ...r.headers], delivery };
}
