// The two multipart operations s3rver lacks, as S3 answers them: AbortMultipartUpload
// (DELETE /<bucket>/<key>?uploadId=) and ListMultipartUploads (GET /<bucket>?uploads, with
// prefix, max-uploads and the key / upload-id markers of its pages).
import { readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  status: number;
  body: unknown;
}

interface Upload {
  id: string;
  key: string;
  at: Date;
}

/** Where the server keeps a bucket's incomplete uploads (one directory each, its key in `key`). */
export type UploadsDir = (bucket: string) => string;

// why the `key` file's mtime as the upload's start: tests can move it back (`ageUpload`), which a
// directory's birth time does not allow; nothing else writes that file after the upload begins.
async function listUploads(dir: string): Promise<Upload[]> {
  const ids = await readdir(dir).catch(() => [] as string[]);
  const found = await Promise.all(
    ids.map(async (id) => {
      const file = join(dir, id, 'key');
      const [key, st] = await Promise.all([
        readFile(file, 'utf8').catch(() => undefined),
        stat(file).catch(() => undefined),
      ]);
      return key !== undefined && st ? { id, key, at: st.mtime } : undefined;
    }),
  );
  // S3 lists uploads by key, then by the time they began (here: by id).
  return found
    .filter((u): u is Upload => u !== undefined)
    .sort((a, b) => (a.key === b.key ? a.id.localeCompare(b.id) : a.key < b.key ? -1 : 1));
}

/** Sets when an incomplete upload began, as ListMultipartUploads reports it (tests of abandoned uploads). */
export async function ageUpload(dir: string, uploadId: string, began: Date): Promise<void> {
  await utimes(join(dir, uploadId, 'key'), began, began);
}

/** Koa middleware answering the two operations; everything else goes on to s3rver. */
export function multipartRoutes(uploads: UploadsDir) {
  return async (ctx: KoaContext, next: () => Promise<void>): Promise<void> => {
    const [, b, ...rest] = ctx.path.split('/');
    const key = rest.join('/');
    if (!b) {
      await next();
      return;
    }
    if (ctx.method === 'DELETE' && key !== '' && ctx.query['uploadId']) {
      const dir = join(uploads(b), ctx.query['uploadId']);
      if (!(await stat(dir).catch(() => undefined))) {
        ctx.status = 404;
        ctx.body = {
          Error: { Code: 'NoSuchUpload', Message: 'The specified upload does not exist.' },
        };
        return;
      }
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (ctx.method === 'GET' && key === '' && 'uploads' in ctx.query) {
      const prefix = ctx.query['prefix'] ?? '';
      const max = Math.min(1000, Number(ctx.query['max-uploads'] ?? 1000) || 1000);
      const keyMarker = ctx.query['key-marker'] ?? '';
      const idMarker = ctx.query['upload-id-marker'] ?? '';
      const after = (u: Upload): boolean =>
        u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.id > idMarker);
      const all = (await listUploads(uploads(b))).filter(
        (u) => u.key.startsWith(prefix) && after(u),
      );
      const page = all.slice(0, max);
      const last = page[page.length - 1];
      const truncated = all.length > page.length;
      ctx.body = {
        ListMultipartUploadsResult: {
          Bucket: b,
          Prefix: prefix,
          MaxUploads: max,
          IsTruncated: truncated,
          ...(truncated && last && { NextKeyMarker: last.key, NextUploadIdMarker: last.id }),
          Upload: page.map((u) => ({ Key: u.key, UploadId: u.id, Initiated: u.at.toISOString() })),
        },
      };
      return;
    }
    await next();
  };
}
