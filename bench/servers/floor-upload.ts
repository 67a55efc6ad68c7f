// The upload floor: node:http + busboy + sha256 + fsync, the least a gateway must do before it
// acknowledges a file (parse the form, hash the bytes for the event, make them durable). Nothing else.
import busboy from 'busboy';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.env['BENCH_UPLOAD_DIR'] ?? '.';
let n = 0;
createServer((req, res) => {
  const stored: Promise<string>[] = [];
  const bb = busboy({ headers: req.headers });
  bb.on('file', (_field, file) => {
    n += 1;
    const path = join(dir, `raw-floor-${process.pid}-${n}.bin`);
    const hash = createHash('sha256');
    file.on('data', (chunk: Buffer) => hash.update(chunk));
    stored.push(
      pipeline(file, createWriteStream(path)).then(async () => {
        const fh = await open(path, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        return hash.digest('hex');
      }),
    );
  });
  bb.on('close', () => {
    Promise.all(stored).then(
      (sha) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ sha256: sha[0] })),
      () => res.writeHead(500).end(),
    );
  });
  bb.on('error', () => res.writeHead(400).end());
  req.pipe(bb);
}).listen(Number(process.env['PORT']), '127.0.0.1', () => process.send?.('ready'));
