import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { jobIdOf } from '../../src/event/build-event.js';
import { sinkQueueName } from '../../src/queue/redis.js';
import { REDIS_URL } from './gateway.js';
import { storedBlobs } from './test-blobs.js';

export const LABVANCED_ORIGIN = 'https://www.labvanced.com';

/** One part of a multipart body: a field (no `filename`) or a file; `raw` replaces the whole part header. */
export interface Part {
  name?: string;
  value: string | Buffer;
  filename?: string;
  type?: string;
  raw?: string;
}

/** A multipart/form-data body as a browser writes it (closing delimiter and CRLF), unless `close` is false. */
export function multipartBody(boundary: string, parts: readonly Part[], close = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const head =
      p.raw ??
      [
        `Content-Disposition: form-data${p.name === undefined ? '' : `; name="${p.name}"`}${p.filename === undefined ? '' : `; filename="${p.filename}"`}`,
        ...(p.filename !== undefined || p.type
          ? [`Content-Type: ${p.type ?? 'application/octet-stream'}`]
          : []),
      ].join('\r\n');
    chunks.push(
      Buffer.from(`--${boundary}\r\n${head}\r\n\r\n`),
      Buffer.from(p.value),
      Buffer.from('\r\n'),
    );
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** The parts Labvanced's player sends to /file_upload. */
export function labvancedUpload(session: string, fileName: string, bytes: Buffer | string): Part[] {
  return [
    { name: 'expSessionNr', value: session },
    { name: 'newFileName', value: fileName },
    { name: 'myFile', filename: fileName, type: 'video/webm', value: bytes },
  ];
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/** Parses the first HTTP/1.1 response in `raw` (Content-Length bodies only), or undefined if incomplete. */
export function parseReply(raw: string): RawReply | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = raw.slice(end + 4, end + 4 + length);
  if (Buffer.byteLength(body) < length) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body, raw };
}

/** A request head for a multipart POST (CRLF-terminated), with a request id to find it in the access log. */
export function requestHead(
  path: string,
  boundary: string | undefined,
  length: number,
  requestId: string,
  extra: Record<string, string> = {},
): string {
  const type =
    boundary === undefined ? 'multipart/form-data' : `multipart/form-data; boundary=${boundary}`;
  const headers = {
    Host: 'localhost',
    Origin: LABVANCED_ORIGIN,
    'Content-Type': type,
    'Content-Length': String(length),
    'X-Request-Id': requestId,
    ...extra,
  };
  return `POST ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}

/** A raw TCP client: writes, resets, and collects what the server answers. */
export class RawClient {
  readonly socket: Socket;
  received = '';
  /** True once the connection is closed (by either side). */
  closed = false;
  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => undefined);
    this.socket.on('data', (c) => {
      this.received += String(c);
    });
    this.socket.once('close', () => {
      this.closed = true;
    });
  }
  /** Resolves once the bytes are handed to the kernel (on loopback: the server can read them). */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      this.socket.write(data, () => resolve());
    });
  }
  /** An abrupt close (TCP RST), as when a browser tab dies. */
  reset(): void {
    this.socket.resetAndDestroy();
  }
  reply(): RawReply | undefined {
    return parseReply(this.received);
  }
}

/** Sends `body` after `head` in one go and resolves with the reply (or undefined if the server closed without one). */
export async function rawPost(
  port: number,
  head: string,
  body: Buffer,
): Promise<RawReply | undefined> {
  const c = new RawClient(port);
  await c.write(Buffer.concat([Buffer.from(head), body]));
  const reply = await new Promise<RawReply | undefined>((resolve) => {
    const check = (): void => {
      const r = c.reply();
      if (r) resolve(r);
    };
    c.socket.on('data', check);
    c.socket.once('close', () => resolve(c.reply()));
  });
  c.socket.destroy();
  return reply;
}

/** Posts a small Labvanced upload of one byte to `path` and resolves with the reply's status: does the gateway take uploads? */
export async function smallUploadStatus(
  port: number,
  path: string,
  boundary = 'smallUpload',
): Promise<number | undefined> {
  const body = multipartBody(boundary, labvancedUpload('after', 'a.webm', 'x'));
  return (await rawPost(port, requestHead(path, boundary, body.length, randomUUID()), body))
    ?.status;
}

const BLOB = /(?:blob:|s3:\/\/[^"]*\/)([0-9a-f-]{36})/g;

/** Every blob id referenced by a job of `sink`'s queue (any state) or by a quarantine record. */
export async function referencedBlobs(
  dataDir: string,
  prefix: string,
  sink: string,
): Promise<Set<string>> {
  const ids = new Set<string>();
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(sinkQueueName(sink), { connection, prefix });
  try {
    const jobs = await queue.getJobs([
      'waiting',
      'active',
      'delayed',
      'completed',
      'failed',
      'prioritized',
      'waiting-children',
    ]);
    for (const j of jobs) for (const m of JSON.stringify(j.data).matchAll(BLOB)) ids.add(m[1]!);
  } finally {
    await queue.close();
    connection.disconnect();
  }
  const quarantine = join(dataDir, 'quarantine');
  const files = await readdir(quarantine, { recursive: true }).catch(() => [] as string[]);
  for (const f of files.filter((n) => n.endsWith('.jsonl')))
    for (const m of (await readFile(join(quarantine, f), 'utf8')).matchAll(BLOB)) ids.add(m[1]!);
  return ids;
}

/**
 * The gateway's stored files (under `<dataDir>/blobs`, or its prefix in the test bucket): partial
 * ones (`.part` files, incomplete multipart uploads), finished blobs no job nor quarantine record
 * refers to, and references to blobs that are gone.
 */
export async function leftovers(
  dataDir: string,
  prefix: string,
  sink: string,
): Promise<{ partials: string[]; orphans: string[]; missing: string[]; blobs: string[] }> {
  const { files: blobs, partials } = await storedBlobs(dataDir);
  const referenced = await referencedBlobs(dataDir, prefix, sink);
  return {
    partials,
    orphans: blobs.filter((n) => !referenced.has(n)),
    missing: [...referenced].filter((id) => !blobs.includes(id)),
    blobs,
  };
}

/** Jobs waiting in `sink`'s queue (an API-only process: nothing takes them). */
export async function jobCount(prefix: string, sink: string): Promise<number> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(sinkQueueName(sink), { connection, prefix });
  try {
    const counts = await queue.getJobCounts();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** The event a job of `sink`'s queue carries for `eventId`, or undefined. */
export async function jobEvent(
  prefix: string,
  sink: string,
  eventId: string,
): Promise<{ data: Record<string, unknown> } | undefined> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(sinkQueueName(sink), { connection, prefix });
  try {
    const job = await queue.getJob(jobIdOf(eventId));
    return (job?.data as { event?: { data: Record<string, unknown> } } | undefined)?.event;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
