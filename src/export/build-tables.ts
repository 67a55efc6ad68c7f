import type { Archive } from './open-archive.js';
import { tables as registry } from './registry.js';
import { scanArchive, type ScanResult } from './scan.js';
import type { BuiltTable, TableBuilder } from './types.js';

/** Hooks to follow a long run: called before each step with a short label. */
export interface BuildHooks {
  step?(label: string): void;
}

/**
 * Scans the archive and builds every table of the platforms present as temporary DuckDB tables
 * (named like the table), without writing anything: `study status` and the export both start here.
 */
export async function buildTables(
  archive: Archive,
  opts: {
    pseudonymize: boolean;
    only?: readonly string[];
    trialVariables?: boolean;
    wideIntegers?: boolean;
  } & BuildHooks = { pseudonymize: false },
): Promise<{ scan: ScanResult; tables: BuiltTable[] }> {
  opts.step?.(
    `reading ${archive.files.size} platform(s), ${[...archive.files.values()].reduce((n, f) => n + f.length, 0)} file(s)`,
  );
  const scan = await scanArchive(
    archive,
    opts.trialVariables === false ? { trialVariables: false } : {},
  );
  const events = [...scan.lines.values()].reduce((a, b) => a + b, 0);
  const ctx = {
    archive,
    conn: archive.conn,
    pseudonymize: opts.pseudonymize,
    scan,
    ...(opts.trialVariables !== undefined && { trialVariables: opts.trialVariables }),
    ...(opts.wideIntegers && { wideIntegers: true }),
  };
  const wanted = (t: TableBuilder) =>
    archive.files.has(t.platform) && (!opts.only || opts.only.includes(t.name));
  const out: BuiltTable[] = [];
  for (const t of registry.filter(wanted)) {
    opts.step?.(`${events} events read from ${scan.files} file(s); building ${t.name}`);
    out.push(await t.build({ ...ctx, table: { name: t.name, platform: t.platform } }));
  }
  return { scan, tables: out };
}
