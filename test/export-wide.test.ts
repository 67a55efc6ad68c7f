import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTables, openArchive, runExport } from '../src/export/index.js';

const VARIABLES = 300;
const TRIALS = 4000;
const SESSIONS = 20;
const TRACES = 150;

/** Trials of a study that records many variables per trial, as the filesystem sink archives them. */
async function writeWideArchive(dir: string): Promise<void> {
  const ns = join(dir, 'labvanced', 'wide');
  await mkdir(ns, { recursive: true });
  const out = createWriteStream(join(ns, '2026-05-01.jsonl'));
  for (let t = 0; t < TRIALS; t++) {
    const vars: Record<string, unknown> = {};
    for (let v = 0; v < VARIABLES; v++) {
      const x = (t * 7919 + v * 31) % 1000;
      const kind = ['rt', 'response', 'correct', 'score'][v % 4];
      vars[`${kind}_${v}`] =
        v % 4 === 0
          ? 200 + x
          : v % 4 === 1
            ? x % 2
              ? 'left'
              : 'right'
            : v % 4 === 2
              ? x % 3 !== 0
              : x / 8;
    }
    const at = new Date(Date.UTC(2026, 4, 1, 0, 0, t)).toISOString();
    const event = {
      specversion: '1.0',
      id: `trial-${t}`,
      source: '/labvanced/wide',
      type: 'labvanced.trial.recorded',
      time: at,
      datacontenttype: 'application/json',
      platform: 'labvanced',
      namespace: 'wide',
      receivedat: at,
      requestid: `request-${t}`,
      participantid: `P${t % SESSIONS}`,
      data: {
        expId: 1,
        expSessionNr: 1 + (t % SESSIONS),
        recTaskId: 1,
        taskId: 't-wide',
        trialNr: Math.floor(t / SESSIONS),
        recData: { data: vars, scope: 'trial' },
      },
    };
    if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('studyhook export: a study with hundreds of trial variables', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'studyhook-wide-'));
    await writeWideArchive(join(tmp, 'events'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("keeps each set of variables once, not once per session, and counts each session's trials", async function () {
    this.timeout(60000);
    const a = await openArchive({ archiveDir: join(tmp, 'events'), namespace: 'wide' });
    try {
      await buildTables(a, { pseudonymize: false });
      const q = async (sql: string) => (await a.conn.runAndReadAll(sql)).getRowsJS();
      // why: the scan's groups hold the variables' names and types; per session they added up to
      // more than the memory limit for a study of thousands of sessions and hundreds of variables.
      // (one group per file and set of variable types: a few here, at least one per session before)
      const [[groups]] = (await q('SELECT count(*)::INT FROM lv_scan WHERE keys IS NOT NULL')) as [
        [number],
      ];
      assert.ok(groups < SESSIONS, `${groups} groups for ${SESSIONS} sessions`);
      assert.deepEqual(
        await q('SELECT count(*)::INT, min(trials)::INT, max(trials)::INT FROM labvanced_sessions'),
        [[SESSIONS, TRIALS / SESSIONS, TRIALS / SESSIONS]],
      );
    } finally {
      await a.close();
    }
  });

  // why a 300 MB limit: with two threads the scan of these trials needs more than that (each thread
  // types every variable of its trials); the export must still finish within it.
  for (const format of ['csv', 'parquet'] as const) {
    it(`exports ${VARIABLES} variables × ${TRIALS} trials to ${format} within a 300 MB memory limit`, async function () {
      this.timeout(60000);
      const out = join(tmp, `out-${format}`);
      const r = await runExport({
        archiveDir: join(tmp, 'events'),
        namespace: 'wide',
        out,
        format,
        memoryLimit: '300MB',
      });
      const trials = r.tables.find((t) => t.name === 'labvanced_trials');
      assert.equal(trials?.rows, TRIALS);
      assert.equal(trials.columns.length, 10 + VARIABLES);
      if (format === 'csv') {
        const lines = (await readFile(join(out, 'labvanced_trials.csv'), 'utf8'))
          .trim()
          .split('\n');
        assert.equal(lines.length, TRIALS + 1);
        assert.equal(lines[0]!.split(',').length, 10 + VARIABLES);
      }
    });
  }

  it('exports trials of 200 kB each (a recorded trace per trial) beyond a 100 MB memory limit', async function () {
    this.timeout(60000);
    const dir = join(tmp, 'big');
    const ns = join(dir, 'labvanced', 'traces');
    await mkdir(ns, { recursive: true });
    const out = createWriteStream(join(ns, '2026-05-01.jsonl'));
    const trace = 'x'.repeat(200_000);
    for (let t = 0; t < TRACES; t++) {
      const at = new Date(Date.UTC(2026, 4, 1, 0, 0, t)).toISOString();
      const event = {
        id: `trace-${t}`,
        type: 'labvanced.trial.recorded',
        time: at,
        receivedat: at,
        data: {
          expId: 1,
          expSessionNr: 1 + (t % 3),
          recTaskId: 1,
          trialNr: t,
          recData: { data: { trace, t } },
        },
      };
      if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const csv = join(tmp, 'out-big');
    const r = await runExport({
      archiveDir: dir,
      namespace: 'traces',
      out: csv,
      format: 'csv',
      memoryLimit: '100MB',
    });
    assert.equal(r.tables.find((x) => x.name === 'labvanced_trials')?.rows, TRACES);
    const lines = (await readFile(join(csv, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, TRACES + 1);
    assert.ok(lines.slice(1).every((l) => l.includes(trace)));
  });
});
