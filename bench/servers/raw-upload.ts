// The upload baseline: node:http streaming the request body straight to a file, nothing else.
// With BENCH_RAW_FSYNC=1 it also fsyncs the file before answering, as studyhook must (durability).
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.env['BENCH_UPLOAD_DIR'] ?? '.';
const fsync = process.env['BENCH_RAW_FSYNC'] === '1';
let n = 0;
createServer((req, res) => {
  n += 1;
  const file = join(dir, `raw-${process.pid}-${n}.bin`);
  pipeline(req, createWriteStream(file))
    .then(async () => {
      if (fsync) {
        const fh = await open(file, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    })
    .then(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}'),
      () => res.writeHead(500).end(),
    );
}).listen(Number(process.env['PORT']), '127.0.0.1', () => process.send?.('ready'));
