import assert from 'node:assert/strict';
import { appendFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExport } from '../src/export/index.js';
import { csvObjects } from './fixtures/export/csv.js';

/** A trial as the filesystem sink archives it. */
function trial(n: number, vars: Record<string, unknown>): string {
  const at = new Date(Date.UTC(2026, 4, 1, 8, 0, n)).toISOString();
  return JSON.stringify({
    specversion: '1.0',
    id: `trial-${n}`,
    source: '/labvanced/live',
    type: 'labvanced.trial.recorded',
    time: at,
    datacontenttype: 'application/json',
    platform: 'labvanced',
    namespace: 'live',
    receivedat: at,
    requestid: `request-${n}`,
    participantid: 'P1',
    data: {
      expId: 1,
      expSessionNr: 7,
      recTaskId: 1,
      taskId: 't',
      trialNr: n,
      recData: { data: vars },
    },
  });
}

describe('studyhook export: an archive the gateway appends to while it is exported', function () {
  this.timeout(60000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'studyhook-export-live-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('writes each trial once with its values as sent when lines arrive between the scan and the write', async () => {
    const dir = join(tmp, 'events', 'labvanced', 'live');
    await mkdir(dir, { recursive: true });
    const file = join(dir, '2026-05-01.jsonl');
    const first = [trial(1, { rt: 1 }), trial(2, { rt: 2 })];
    await writeFile(file, `${first.join('\n')}\n`);
    let appended = false;
    const out = join(tmp, 'out');
    const r = await runExport({
      archiveDir: join(tmp, 'events'),
      namespace: 'live',
      out,
      format: 'csv',
      // The trials are scanned, not yet written: the gateway archives a redelivered copy of trial 1,
      // a trial with a text reaction time and a new variable, and one with a fraction.
      step: (label) => {
        if (appended || !label.includes('building labvanced_sessions')) return;
        appended = true;
        const more = [first[0], trial(3, { rt: 'timeout', extra: 'x' }), trial(4, { rt: 2.5 })];
        appendFileSync(file, `${more.join('\n')}\n`);
      },
    });
    assert.ok(appended);
    const rows = csvObjects(await readFile(join(out, 'labvanced_trials.csv'), 'utf8'));
    assert.deepEqual(
      rows.map((x) => [x['event_id'], x['rt'], x['extra']]),
      [
        ['trial-1', '1', ''],
        ['trial-2', '2', ''],
        ['trial-3', 'timeout', 'x'],
        ['trial-4', '2.5', ''],
      ],
    );
    assert.equal(r.tables.find((t) => t.name === 'labvanced_trials')!.rows, 4);
    const sessions = csvObjects(await readFile(join(out, 'labvanced_sessions.csv'), 'utf8'));
    assert.deepEqual(
      sessions.map((s) => [s['session'], s['trials']]),
      [['7', '4']],
    );
  });

  it('finishes when a file it read whole is removed before the export ends', async () => {
    const dir = join(tmp, 'gone', 'labvanced', 'live');
    await mkdir(dir, { recursive: true });
    const file = join(dir, '2026-05-01.jsonl');
    await writeFile(file, `${trial(1, { rt: 1 })}\n`);
    const out = join(tmp, 'out-gone');
    await runExport({
      archiveDir: join(tmp, 'gone'),
      namespace: 'live',
      out,
      format: 'csv',
      // The trials are written; the last table is read from the scan, not from the file.
      step: (label) => {
        if (label.startsWith('writing labvanced_files')) rmSync(file);
      },
    });
    const rows = csvObjects(await readFile(join(out, 'labvanced_trials.csv'), 'utf8'));
    assert.deepEqual(
      rows.map((x) => x['event_id']),
      ['trial-1'],
    );
  });
});
