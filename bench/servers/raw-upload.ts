// The upload baseline: node:http streaming the request body straight to a file, nothing else.
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.env['BENCH_UPLOAD_DIR'] ?? '.';
let n = 0;
createServer((req, res) => {
  n += 1;
  pipeline(req, createWriteStream(join(dir, `raw-${n}.bin`))).then(
    () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}'),
    () => res.writeHead(500).end(),
  );
}).listen(Number(process.env['PORT']), '127.0.0.1', () => process.send?.('ready'));
