import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type ResolvedConfig } from '../config/load-config.js';
import { ExportError } from '../export/export-error.js';
import { quarantineCount } from '../export/quarantine-count.js';
import { liveTempDirs } from '../export/open-archive.js';
import { runExport } from '../export/run-export.js';
import { defineCommand } from '../command.js';

const HELP = `Usage: studyhook export --namespace NS --out DIR [--format csv|parquet] [--since DATE] [--until DATE]
                        [--pseudonymize KEY] [--archive-dir DIR] [--config FILE]

Reads the archive (the filesystem sink's JSONL) of one namespace and writes one file per table of
every platform present, plus codebook.md and codebook.json. --since/--until select by the time the
gateway received an event (ISO 8601; a date alone for --until means the end of that day, UTC).
--pseudonymize KEY replaces participant identifiers by keyed HMAC pseudonyms and leaves out
free-text fields that commonly carry personal data. The same archive gives the same files.`;

/** The filesystem sink's directory (as replay finds it). */
export function archiveDirOf(config: ResolvedConfig): string {
  const fs = config.sinks.find((s) => s.use === 'filesystem');
  const dir = fs?.options['dir'];
  return typeof dir === 'string' ? resolve(config.dataDir, dir) : join(config.dataDir, 'events');
}

function date(value: string | undefined, flag: string, endOfDay: boolean): Date | undefined {
  if (value === undefined) return undefined;
  const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const d = new Date(dayOnly && endOfDay ? `${value}T23:59:59.999Z` : value);
  if (Number.isNaN(d.getTime()))
    throw new ExportError(
      `${flag} '${value}' is not a date (use ISO 8601: 2026-05-01 or 2026-05-01T12:00:00Z)`,
    );
  return d;
}

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      namespace: { type: 'string', short: 'n' },
      out: { type: 'string', short: 'o' },
      format: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      pseudonymize: { type: 'string' },
      'archive-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.namespace) throw new ExportError('--namespace is required (studyhook export --help)');
  if (!values.out) throw new ExportError('--out is required: the directory to write the tables to');
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'parquet')
    throw new ExportError(`--format must be csv or parquet, not '${format}'`);
  if (values.pseudonymize === '')
    throw new ExportError(
      '--pseudonymize needs a key (keep it secret; the same key gives the same pseudonyms)',
    );
  // why: an export reads the archive; no platform, sink or dashboard secret is needed for it.
  const config = loadConfig({
    path: values.config,
    secretsNotNeeded: ['/platforms', '/admin', '/sinks/*/options'],
  });
  const archiveDir =
    values['archive-dir'] !== undefined ? resolve(values['archive-dir']) : archiveDirOf(config);
  const since = date(values.since, '--since', false);
  const until = date(values.until, '--until', true);
  const out = resolve(values.out);
  const tty = process.stderr.isTTY;
  // why once: a second Ctrl-C ends the process at once, as without a handler, but first removes
  // the temporary directories (spilled sorts, snapshots: up to gigabytes) the first one had not
  // yet cleaned up.
  const stop = new AbortController();
  const now = () => {
    for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  const abort = () => {
    stop.abort();
    process.once('SIGINT', now).once('SIGTERM', now);
  };
  process.once('SIGINT', abort).once('SIGTERM', abort);
  const result = await runExport({
    archiveDir,
    namespace: values.namespace,
    out,
    format,
    ...(since && { since }),
    ...(until && { until }),
    ...(values.pseudonymize !== undefined && { pseudonymize: values.pseudonymize }),
    progress: (line) => process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`),
    signal: stop.signal,
  }).finally(() =>
    process.off('SIGINT', abort).off('SIGTERM', abort).off('SIGINT', now).off('SIGTERM', now),
  );
  if (tty) process.stderr.write('\r\x1b[K');
  for (const b of result.badLines.slice(0, 20))
    console.error(`skipped ${b.file}:${b.line}: ${b.reason}`);
  if (result.badLineCount > 20)
    console.error(`... and ${result.badLineCount - 20} more bad line(s)`);
  for (const t of result.tables)
    console.log(`${t.name}.${format}: ${t.rows} row(s), ${t.columns.length} column(s)`);
  console.log(
    `wrote ${result.files.length} file(s) to ${out} from ${result.lines} archived event line(s)${result.badLineCount ? `; ${result.badLineCount} bad line(s) skipped` : ''}`,
  );
  const quarantined = await quarantineCount(config.dataDir, values.namespace);
  if (quarantined > 0)
    console.log(
      `${quarantined} quarantined payload(s) of namespace '${values.namespace}' are not exported; inspect them: studyhook quarantine list --namespace ${values.namespace}`,
    );
  return 0;
}

export const exportCommand = defineCommand({
  name: 'export',
  summary:
    'write tidy tables (CSV or Parquet) and a codebook of one namespace from the archive (--help)',
  async run(args) {
    try {
      return await run(args);
    } catch (err) {
      // why: a user-fixable problem is one line and exit 1, not a stack trace.
      if (
        !(err instanceof ExportError) &&
        !(err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      )
        throw err;
      console.error(`studyhook export: ${err.message}`);
      return 1;
    }
  },
});
