import assert from 'node:assert/strict';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import request from 'supertest';
import { buildTables, openArchive, pseudonymOf } from '../src/export/index.js';
import { csvObjects } from './fixtures/export/csv.js';
import {
  driveStudy,
  EMAIL,
  IDENTIFIERS,
  labvanced,
  ORIGIN,
  studyPlatforms,
  TRIALS,
  waitArchived,
} from './fixtures/export/drive-study.js';
import { exportCli } from './fixtures/export/run.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { runMainCli } from './helpers/run-main.js';

const KEY = 'a-secret-export-key';

/** Properties of the export over one archive written by the real gateway, copied and altered where a test needs it. */
describe('studyhook export: duplicates, damage, reruns, formats, pseudonyms, errors', () => {
  let t: TestGateway;
  let tmp: string;
  let n = 0;
  const config = () => join(t.dataDir, 'studyhook.yml');
  const archive = () => join(t.dataDir, 'events');
  const dir = async (name: string) => {
    const d = join(tmp, name);
    await mkdir(d, { recursive: true });
    return d;
  };
  const run = (...args: string[]) => exportCli(['--config', config(), ...args]);
  const files = async (d: string) =>
    Object.fromEntries(
      await Promise.all(
        (await readdir(d)).sort().map(async (f) => [f, await readFile(join(d, f))] as const),
      ),
    );
  /** A copy of the archive to alter. */
  const copyArchive = async (name: string) => {
    const d = join(tmp, name);
    await cp(archive(), d, { recursive: true });
    return d;
  };
  const day = () => new Date().toISOString().slice(0, 10);

  before(async function () {
    this.timeout(60000);
    t = await startGateway({ platforms: studyPlatforms(['study', 'enc-json', 'enc-form', 'odd']) });
    n = await driveStudy(t, 'study');
    for (const trial of TRIALS) {
      await labvanced(t, 'enc-json', 'recordTrial', trial);
      await labvanced(t, 'enc-form', 'recordTrial', trial, true);
    }
    // A trial without recData: kept in quarantine, not exported.
    await request(t.gateway.app!)
      .post('/labvanced/study/recordTrial')
      .set('Origin', ORIGIN)
      .send({ expSessionNr: 101, trialNr: 9 })
      .expect(200);
    // Variable names a struct field cannot have (empty, equal but for case) and names like prototype keys.
    const odd =
      '{"expId":1,"expSessionNr":5,"recTaskId":1,"trialNr":1,"recData":{"data":{"rt":1,"RT":2,"":3,"__proto__":4,"constructor":"c","a.b":true,"quote\\"d":"q"}}}';
    await request(t.gateway.app!)
      .post('/labvanced/odd/recordTrial')
      .set('Origin', ORIGIN)
      .set('Content-Type', 'application/json')
      .send(odd)
      .expect(200);
    await waitArchived(t, n + 2 * TRIALS.length + 1);
    tmp = await mkdtemp(join(tmpdir(), 'studyhook-export-'));
  });
  after(async () => {
    await t?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('gives identical trial rows whether the player sent JSON or urlencoded bodies', async function () {
    this.timeout(30000);
    const rows = async (ns: string) => {
      const out = await dir(`enc-${ns}`);
      assert.equal((await run('--namespace', ns, '--out', out)).code, 0);
      return csvObjects(await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).map(
        ({ event_id: _i, time: _t, received_at: _r, ...rest }) => rest,
      );
    };
    const json = await rows('enc-json');
    assert.equal(json.length, 3);
    assert.deepEqual(await rows('enc-form'), json);
  });

  it('exports variables named like prototype keys, empty, or equal but for case, each in its own column', async function () {
    this.timeout(30000);
    const out = await dir('odd');
    const r = await run('--namespace', 'odd', '--out', out);
    assert.equal(r.code, 0, r.err);
    const [row] = csvObjects(await readFile(join(out, 'labvanced_trials.csv'), 'utf8'));
    const vars = Object.fromEntries(Object.entries(row!).slice(10));
    assert.deepEqual(vars, {
      rt: '1',
      'var.RT': '2',
      'var.': '3',
      ['__proto__']: '4',
      constructor: 'c',
      'a.b': 'true',
      'quote"d': 'q',
    });
  });

  it("counts an event archived twice (same id) once, even when the copy was received later or is in another day's file", async function () {
    this.timeout(30000);
    const copy = await copyArchive('dup');
    for (const p of ['labvanced', 'prolific']) {
      const file = join(copy, p, 'study', `${day()}.jsonl`);
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      const later = {
        ...(JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>),
        receivedat: '2999-01-01T00:00:00.000Z',
      };
      await appendFile(file, `${lines[4]}\n${lines[0]}\n${JSON.stringify(later)}\n`);
      // why: the trials' copies are found across the namespace's files, not within one file.
      const trial = lines.find((l) => l.includes('"labvanced.trial.recorded"'));
      if (trial) await writeFile(join(copy, p, 'study', '2999-01-01.jsonl'), `${trial}\n`);
    }
    const [a, b] = [await dir('dup-a'), await dir('dup-b')];
    assert.equal((await run('--namespace', 'study', '--out', a)).code, 0);
    assert.equal((await run('--namespace', 'study', '--out', b, '--archive-dir', copy)).code, 0);
    assert.deepEqual(await files(b), await files(a));
  });

  for (const format of ['csv', 'parquet']) {
    it(`writes byte-identical ${format} files when run again on the same archive`, async function () {
      this.timeout(30000);
      const [a, b] = [await dir(`rerun-${format}-a`), await dir(`rerun-${format}-b`)];
      assert.equal((await run('--namespace', 'study', '--format', format, '--out', a)).code, 0);
      assert.equal((await run('--namespace', 'study', '--format', format, '--out', b)).code, 0);
      const first = await files(a);
      assert.equal(Object.keys(first).length, 11);
      assert.deepEqual(await files(b), first);
    });
  }

  it('writes Parquet that reads back (DuckDB) with the same rows, values and order as the CSV', async function () {
    this.timeout(30000);
    const [c, p] = [await dir('fmt-csv'), await dir('fmt-parquet')];
    assert.equal((await run('--namespace', 'study', '--out', c)).code, 0);
    assert.equal((await run('--namespace', 'study', '--format', 'parquet', '--out', p)).code, 0);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    for (const f of (await readdir(c)).filter((x) => x.endsWith('.csv'))) {
      const table = f.replace(/\.csv$/, '');
      const csv = await db.runAndReadAll(
        `SELECT * FROM read_csv('${join(c, f)}', all_varchar = true, header = true)`,
      );
      const pq = await db.runAndReadAll(
        `SELECT COLUMNS(*)::VARCHAR FROM read_parquet('${join(p, `${table}.parquet`)}')`,
      );
      assert.deepEqual(pq.columnNames(), csv.columnNames(), table);
      // why: CSV cannot tell an empty text from a missing value; Parquet can.
      const norm = (rows: unknown[][]) => rows.map((r) => r.map((v) => (v === null ? '' : v)));
      assert.deepEqual(norm(pq.getRowsJS()), norm(csv.getRowsJS()), table);
    }
    const types = await db.runAndReadAll(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${join(p, 'labvanced_trials.parquet')}')) WHERE column_name IN ('trial_nr', 'correct', 'rt', 'late')`,
    );
    assert.deepEqual(Object.fromEntries(types.getRowsJS() as [string, string][]), {
      trial_nr: 'BIGINT',
      rt: 'VARCHAR',
      correct: 'BOOLEAN',
      late: 'BIGINT',
    });
    // why: every column chunk compressed (zstd, readable by arrow, pandas, R and DuckDB alike).
    const codecs = await db.runAndReadAll(
      `SELECT DISTINCT compression FROM parquet_metadata('${join(p, '*.parquet')}')`,
    );
    assert.deepEqual(codecs.getRowsJS(), [['ZSTD']]);
  });

  it('pseudonymises every participant identifier: none is left anywhere in the output, and the tables still join', async function () {
    this.timeout(30000);
    const out = await dir('pseudo');
    const r = await run('--namespace', 'study', '--pseudonymize', KEY, '--out', out);
    assert.equal(r.code, 0, r.err);
    const all = Object.entries(await files(out)).map(([f, b]) => [f, b.toString('utf8')] as const);
    for (const id of [...IDENTIFIERS, EMAIL])
      for (const [f, text] of all) assert.ok(!text.includes(id), `${id} found in ${f}`);
    const read = async (table: string) =>
      csvObjects(await readFile(join(out, `${table}.csv`), 'utf8'));
    const [trials, sessions, submissions, uploads, surveys] = await Promise.all(
      [
        'labvanced_trials',
        'labvanced_sessions',
        'prolific_submissions',
        'actigraph_uploads',
        'mydatahelps_surveys',
      ].map(read),
    );
    const alpha = pseudonymOf(KEY, 'SUBJ-ALPHA-7f3');
    assert.deepEqual(
      trials!.filter((x) => x['session'] === '101').map((x) => x['participant']),
      [alpha, alpha, alpha],
    );
    assert.equal(sessions!.find((s) => s['session'] === '101')!['participant'], alpha);
    // The Prolific id Labvanced recorded joins the Prolific submission.
    assert.equal(
      sessions!.find((s) => s['session'] === '101')!['crowdsourcing_subject_id'],
      submissions![0]!['participant'],
    );
    assert.equal(submissions![0]!['participant'], pseudonymOf(KEY, 'PROLIFICPID5ee1'));
    assert.equal(uploads![0]!['subject_id'], pseudonymOf(KEY, 'AG-SUBJ-918273'));
    assert.equal(
      surveys![0]!['participant_id'],
      pseudonymOf(KEY, '7d3c1f0e-3a52-4d8e-b1c4-9a6e2f0d8b11'),
    );
    assert.ok(
      !('selected_email' in sessions![0]!) && !('survey_data.selectedEmail' in sessions![0]!),
      'email columns dropped',
    );
    const codebook = JSON.parse(all.find(([f]) => f === 'codebook.json')![1]) as {
      pseudonymised: boolean;
      tables: {
        name: string;
        columns: { name: string; pseudonymised?: boolean }[];
        dropped: { name: string }[];
      }[];
    };
    const sessionsDoc = codebook.tables.find((x) => x.name === 'labvanced_sessions')!;
    assert.equal(codebook.pseudonymised, true);
    assert.deepEqual(
      sessionsDoc.columns.filter((c) => c.pseudonymised).map((c) => c.name),
      ['participant', 'crowdsourcing_subject_id', 'token'],
    );
    assert.deepEqual(
      sessionsDoc.dropped.map((c) => c.name),
      ['selected_email', 'survey_data.selectedEmail'],
    );
    // Without --pseudonymize nothing is changed.
    const plain = await dir('plain');
    await run('--namespace', 'study', '--out', plain);
    assert.ok((await readFile(join(plain, 'labvanced_sessions.csv'), 'utf8')).includes(EMAIL));
  });

  it('skips torn and corrupt lines, names each by file:line, and exports every other event', async function () {
    this.timeout(30000);
    const copy = await copyArchive('torn');
    const lvFile = join(copy, 'labvanced', 'study', `${day()}.jsonl`);
    const lines = (await readFile(lvFile, 'utf8')).trim().split('\n');
    // A crash mid-append leaves half a line that the next append continues; a full disk leaves NULs.
    const damaged = [
      ...lines.slice(0, 2),
      `${lines[2]!.slice(0, 40)}`,
      'not json at all',
      '\u0000\u0000\u0000\u0000',
      '{"no":"id"}',
      ...lines.slice(2),
    ];
    await writeFile(lvFile, `${damaged.join('\n')}\n`);
    await appendFile(
      join(copy, 'prolific', 'study', `${day()}.jsonl`),
      Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x0a]),
    );
    const [a, b] = [await dir('torn-a'), await dir('torn-b')];
    assert.equal((await run('--namespace', 'study', '--out', a)).code, 0);
    const r = await run('--namespace', 'study', '--out', b, '--archive-dir', copy);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(await files(b), await files(a));
    const reported = r.err
      .split('\n')
      .filter((l) => l.startsWith('skipped '))
      .map((l) => l.replace(copy, '<archive>').replace(/: .*$/, ''));
    assert.deepEqual(
      reported,
      [3, 4, 5, 6]
        .map((l) => `skipped <archive>/labvanced/study/${day()}.jsonl:${l}`)
        .concat(`skipped <archive>/prolific/study/${day()}.jsonl:7`),
    );
    assert.match(r.out, /5 bad line\(s\) skipped/);
  });

  it('exports an empty namespace, and a range with no events, as tables with only their header', async function () {
    this.timeout(30000);
    const copy = await copyArchive('empty');
    await mkdir(join(copy, 'labvanced', 'quiet'), { recursive: true });
    await writeFile(join(copy, 'labvanced', 'quiet', '2026-05-01.jsonl'), '');
    const out = await dir('empty-out');
    const r = await run('--namespace', 'quiet', '--out', out, '--archive-dir', copy);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((await readdir(out)).sort(), [
      'codebook.json',
      'codebook.md',
      'labvanced_files.csv',
      'labvanced_sessions.csv',
      'labvanced_trials.csv',
    ]);
    assert.equal(
      await readFile(join(out, 'labvanced_trials.csv'), 'utf8'),
      'session,participant,study,task_id,task_name,rec_task_id,trial_nr,time,received_at,event_id\n',
    );
    const future = await dir('future');
    assert.equal(
      (await run('--namespace', 'study', '--since', '2999-01-01', '--out', future)).code,
      0,
    );
    for (const f of (await readdir(future)).filter((x) => x.endsWith('.csv')))
      assert.equal((await readFile(join(future, f), 'utf8')).trim().split('\n').length, 1, f);
    const today = await dir('today');
    assert.equal(
      (await run('--namespace', 'study', '--since', day(), '--until', day(), '--out', today)).code,
      0,
    );
    assert.equal(
      csvObjects(await readFile(join(today, 'labvanced_trials.csv'), 'utf8')).length,
      4,
      '--until with a date includes that whole day',
    );
  });

  it('prints how many payloads of the namespace are quarantined and the command to inspect them', async function () {
    this.timeout(30000);
    const r = await run('--namespace', 'study', '--out', await dir('q'));
    assert.match(
      r.out,
      /^1 quarantined payload\(s\) of namespace 'study' are not exported; inspect them: studyhook quarantine list --namespace study$/m,
    );
  });

  it('fails with one line and exit code 1 for no archive, an unknown namespace or an unwritable --out', async function () {
    this.timeout(60000);
    const cases: [string[], RegExp][] = [
      [
        ['--namespace', 'study', '--out', await dir('x1'), '--archive-dir', join(tmp, 'nowhere')],
        /^studyhook export: no archive at .*nowhere/,
      ],
      [
        ['--namespace', 'nope', '--out', await dir('x2')],
        /^studyhook export: no namespace 'nope' in the archive .* \(namespaces there: enc-form, enc-json, odd, study\)$/,
      ],
      [
        ['--namespace', 'study', '--out', join(config(), 'sub')],
        /^studyhook export: cannot write to --out .*: (ENOTDIR|EEXIST)$/,
      ],
      [
        ['--namespace', 'study', '--out', await dir('x4'), '--format', 'xlsx'],
        /^studyhook export: --format must be csv or parquet/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.match(r.err.trim(), message);
    }
    // Through the CLI's entry (command dispatch included): exit status 1 and the same single line.
    const cli = await runMainCli([
      'export',
      '--config',
      config(),
      '--namespace',
      'nope',
      '--out',
      await dir('x5'),
    ]);
    assert.equal(cli.code, 1);
    assert.match(cli.err, /^studyhook export: no namespace 'nope' in the archive [^\n]*\n$/);
  });

  it('builds the tables in DuckDB without writing a file, for other commands to query', async function () {
    this.timeout(30000);
    const a = await openArchive({ archiveDir: archive(), namespace: 'study' });
    try {
      const { tables } = await buildTables(a, {
        pseudonymize: false,
        only: ['labvanced_sessions', 'labvanced_trials'],
      });
      assert.deepEqual(
        tables.map((x) => [x.name, x.rows]),
        [
          ['labvanced_trials', 4],
          ['labvanced_sessions', 2],
        ],
      );
      const r = await a.conn.runAndReadAll(
        'SELECT session, status, trials FROM labvanced_sessions',
      );
      assert.deepEqual(r.getRowsJS(), [
        ['101', 'finished', 3n],
        ['102', 'failed', 1n],
      ]);
    } finally {
      await a.close();
    }
  });
});
