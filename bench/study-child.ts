// One measured run in its own process, so that its peak RSS is its own: `floor` reads the study's
// archive files and JSON.parses every line in Node (the export bench's floor); `status` runs
// `studyhook study status` as the CLI does.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { study } from '../src/commands/study.js';

const [what, archiveDir, config] = process.argv.slice(2) as [string, string, string];
const started = performance.now();
let events = 0;
if (what === 'floor') {
  for (const [platform, ns] of [
    ['prolific', 'lab'],
    ['labvanced', 'stroop'],
  ] as const) {
    const dir = join(archiveDir, platform, ns);
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
  }
} else {
  const { write } = process.stdout;
  let out = '';
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  const code = await study
    .run(['status', 'bench', '--config', config, '--archive-dir', archiveDir, '--format', 'json'])
    .finally(() => {
      process.stdout.write = write;
    });
  if (code !== 0) throw new Error(`study status exited ${code}`);
  const summary = JSON.parse(out) as {
    events: Record<string, number>;
    participants: number;
    classifications: Record<string, number>;
  };
  events = Object.values(summary.events).reduce((a, b) => a + b, 0);
  process.stderr.write(
    `participants ${summary.participants}: ${JSON.stringify(summary.classifications)}\n`,
  );
}
const ms = performance.now() - started;
// why: maxRSS covers the whole process, DuckDB's native memory included.
process.stdout.write(
  `${JSON.stringify({ what, events, ms, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
