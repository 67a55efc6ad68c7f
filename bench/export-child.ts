// One measured run in its own process, so that its peak RSS is its own: `floor` reads the archive's
// files and JSON.parses every line in Node; `csv` / `parquet` run the export as the CLI does.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runExport } from '../src/export/run-export.js';

const [what, archiveDir, namespace, out] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const started = performance.now();
let events = 0;
if (what === 'floor') {
  const dir = join(archiveDir, 'labvanced', namespace);
  for (const f of (await readdir(dir)).sort()) {
    for await (const line of createInterface({
      input: createReadStream(join(dir, f)),
      crlfDelay: Infinity,
    })) {
      if (!line) continue;
      JSON.parse(line);
      events += 1;
    }
  }
} else {
  const r = await runExport({
    archiveDir,
    namespace,
    out,
    format: what as 'csv' | 'parquet',
    progress: (l) => process.stderr.write(`${l}\n`),
  });
  events = r.lines;
}
const ms = performance.now() - started;
// why: maxRSS covers the whole process, DuckDB's native memory included.
process.stdout.write(
  `${JSON.stringify({ what, events, ms, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
