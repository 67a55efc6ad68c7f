// A completed multipart upload kept as S3 and MinIO keep it: its part files and a manifest, not one
// file the parts were copied into. s3rver wrote every byte of a multipart upload twice (each part,
// then the object assembled from them) against once for a PUT, so a multipart upload could not be
// compared with a PUT to the same server. Here completing an upload renames its folder and writes
// a manifest in place of the object file; reads, ranges, copies, deletes and lists go over the parts.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { S3ObjectModel, Store } from './s3-server-store.js';

interface Manifest {
  /** The folder of the part files, next to the object's own files. */
  dir: string;
  parts: { number: number; size: number }[];
  size: number;
}

// why createRequire: s3rver is CommonJS and ships no types.
const require = createRequire(import.meta.url);
const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string) => Error;
const S3Object = require('s3rver/lib/models/object') as new (
  bucket: string,
  key: string,
  content: Readable | null,
  metadata: Record<string, unknown>,
) => S3ObjectModel;

// why: S3's own mark of a multipart object is an ETag ending in "-<part count>"; a PUT's is a plain md5.
const MULTIPART_ETAG = /-\d+"?$/;

/** The object's bytes from `start` to `end` (inclusive), read from its parts in turn. */
async function* readParts(dir: string, m: Manifest, start: number, end: number) {
  let at = 0;
  for (const p of m.parts) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + p.size - 1);
    if (from <= to)
      yield* createReadStream(join(dir, String(p.number)), {
        start: from - at,
        end: to - at,
        highWaterMark: 1 << 20,
      }) as AsyncIterable<Buffer>;
    at += p.size;
  }
}

/** Makes `store` keep completed multipart uploads as their parts plus a manifest. */
export function keepMultipartParts(store: Store): void {
  const objectPath = (b: string, key: string): string => store.getResourcePath(b, key, 'object');
  const original = {
    getMetadata: store.getMetadata.bind(store),
    getObject: store.getObject.bind(store),
    copyObject: store.copyObject.bind(store),
    deleteObject: store.deleteObject.bind(store),
    putObject: store.putObject.bind(store),
  };

  /** The manifest of a multipart object, or undefined for a PUT object or no object. */
  const manifestOf = async (b: string, key: string): Promise<Manifest | undefined> => {
    const etag = await readFile(`${objectPath(b, key)}.md5`, 'utf8').catch(() => '');
    if (!MULTIPART_ETAG.test(etag)) return undefined;
    return JSON.parse(await readFile(objectPath(b, key), 'utf8')) as Manifest;
  };
  const partsDir = (b: string, key: string, m: Manifest): string =>
    join(dirname(objectPath(b, key)), m.dir);

  store.getMetadata = async (b, key) => {
    const meta = await original.getMetadata(b, key);
    const m = await manifestOf(b, key);
    return m ? { ...meta, 'content-length': m.size } : meta;
  };

  // The same answers as s3rver's getObject (a range past the end has a range and no content), but
  // a range ending at byte 0 is that byte, not the whole object.
  store.getObject = async (b, key, options) => {
    const m = await manifestOf(b, key).catch(() => undefined);
    if (!m) return original.getObject(b, key, options);
    const object = new S3Object(b, key, null, await store.getMetadata(b, key));
    const range = {
      start: options?.start ?? 0,
      end: Math.min(options?.end ?? Infinity, Math.max(0, m.size - 1)),
    };
    if (options && (options.start !== undefined || options.end !== undefined)) object.range = range;
    if (range.start < 0 || range.end < range.start) return object;
    object.content = Readable.from(readParts(partsDir(b, key, m), m, range.start, range.end), {
      objectMode: false,
    });
    return object;
  };

  // why: S3 copies a multipart object into a new object of one part, with its own md5 as ETag.
  store.copyObject = async (sb, sk, db, dk, replacement) => {
    if ((sb === db && sk === dk) || !(await manifestOf(sb, sk)))
      return original.copyObject(sb, sk, db, dk, replacement);
    const src = await store.getObject(sb, sk);
    await store.putObject({
      bucket: db,
      key: dk,
      content: src!.content!,
      metadata: replacement ?? src!.metadata,
    });
    return store.getMetadata(db, dk);
  };

  // why the parts first: s3rver then removes the key's folders once they are empty.
  store.deleteObject = async (b, key) => {
    const m = await manifestOf(b, key).catch(() => undefined);
    if (m) await rm(partsDir(b, key, m), { recursive: true, force: true });
    await original.deleteObject(b, key);
  };

  const replacing = async <T>(b: string, key: string, write: () => Promise<T>): Promise<T> => {
    const old = await manifestOf(b, key).catch(() => undefined);
    const r = await write();
    if (old) await rm(partsDir(b, key, old), { recursive: true, force: true });
    return r;
  };
  store.putObject = (o) => replacing(o.bucket, o.key, () => original.putObject(o));

  // S3 checks each part's ETag and gives the object the md5 of the parts' md5s with "-<count>".
  store.putObjectMultipart = async (b, uploadId, listed) => {
    const upload = join(store.getResourcePath(b, undefined, 'uploads'), uploadId);
    const [key, metadata] = await Promise.all([
      readFile(join(upload, 'key'), 'utf8'),
      readFile(join(upload, 'metadata'), 'utf8').then((t) => JSON.parse(t) as unknown),
    ]);
    const sorted = [...listed].sort((x, y) => x.number - y.number);
    const md5s = createHash('md5');
    const parts: Manifest['parts'] = [];
    for (const p of sorted) {
      const md5 = await readFile(join(upload, `${p.number}.md5`), 'utf8').catch(() => undefined);
      if (md5 !== p.etag)
        throw new S3Error('InvalidPart', `Part ${p.number} was not uploaded or has another ETag.`);
      md5s.update(Buffer.from(md5, 'hex'));
      parts.push({ number: p.number, size: (await stat(join(upload, String(p.number)))).size });
    }
    const etag = `${md5s.digest('hex')}-${sorted.length}`;
    return replacing(b, key, async () => {
      const path = objectPath(b, key);
      const kept = store.getResourcePath(b, key, `parts-${uploadId}`);
      const m: Manifest = {
        dir: basename(kept),
        parts,
        size: parts.reduce((n, p) => n + p.size, 0),
      };
      await mkdir(dirname(path), { recursive: true });
      await rename(upload, kept);
      // why the manifest in place of the object: s3rver finds objects (exists, list) by that file.
      await writeFile(path, JSON.stringify(m));
      await store.putMetadata(b, key, metadata, etag);
      return { size: m.size, md5: etag };
    });
  };
}
