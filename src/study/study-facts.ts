import { buildTables } from '../export/build-tables.js';
import type { Archive } from '../export/open-archive.js';
import { fileList, fileLit, lit } from '../export/sql.js';
import { num, rows, str } from './facts-sql.js';
import type { StudyDef, StudyFacts } from './types.js';
import { studyParts } from './study-parts.js';

/** The newest `receivedat` of a platform: only its last day's file is read (files are named by the day received). */
async function lastEvent(archive: Archive, platform: string): Promise<string | null> {
  const files = archive.files.get(platform) ?? [];
  for (let i = files.length - 1; i >= 0; i--) {
    const r = await rows(
      archive.conn,
      `SELECT max(receivedat) AS m FROM read_json(${fileLit(files[i]!)}, format='newline_delimited', ignore_errors=true, columns={receivedat: 'VARCHAR'})`,
    );
    const m = str(r[0]?.['m']);
    if (m) return m;
  }
  return null;
}

/**
 * Events per hour per platform since `since`: only the files of the days from `since` on are read
 * (files are named by the day received), and only their `receivedat`.
 */
async function hourlyEvents(archive: Archive, since: Date): Promise<StudyFacts['hourly']> {
  const day = since.toISOString().slice(0, 10);
  const out: StudyFacts['hourly'] = [];
  for (const [platform, files] of archive.files) {
    const recent = files.filter(
      (f) => (/(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(f)?.[1] ?? '9999') >= day,
    );
    if (recent.length === 0) continue;
    const found = await rows(
      archive.conn,
      `SELECT substr(receivedat, 1, 13) AS h, count(*) AS n FROM read_json(${fileList(recent)}, format='newline_delimited', ignore_errors=true, columns={receivedat: 'VARCHAR', id: 'VARCHAR'})
      WHERE id IS NOT NULL AND receivedat >= ${lit(since.toISOString())} GROUP BY 1 ORDER BY 1`,
    );
    for (const r of found) out.push({ hour: String(r['h']), platform, events: num(r['n']) });
  }
  return out;
}

/**
 * Reads what the study's archive says, with the export's engine and tables: the tables of the
 * platforms present are built (trials without their variables), then each platform's study part
 * queries them per unit (submission, session, survey, upload) with the participant each unit names.
 */
export async function readStudyFacts(
  archive: Archive,
  study: StudyDef,
  step?: (label: string) => void,
  hourlySince?: Date,
): Promise<StudyFacts> {
  const parts = studyParts();
  const only = parts.flatMap((p) => p.tables ?? []);
  const { scan } = await buildTables(archive, {
    pseudonymize: false,
    only,
    trialVariables: false,
    ...(step && { step }),
  });
  const conn = archive.conn;
  step?.('classifying participants');
  const own: Partial<StudyFacts> = {};
  for (const part of parts)
    Object.assign(
      own,
      await part.facts({ archive, conn, study, has: archive.files.has(part.platform) }),
    );
  const events: Record<string, number> = {};
  const last: Record<string, string | null> = {};
  for (const p of archive.files.keys()) {
    events[p] = scan.lines.get(p) ?? 0;
    last[p] = await lastEvent(archive, p);
  }
  return {
    ...(own as StudyFacts),
    events,
    lastEvent: last,
    badLines: scan.badLines,
    badLineCount: scan.badLineCount,
    hourly: hourlySince ? await hourlyEvents(archive, hourlySince) : [],
  };
}
