import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import request from 'supertest';
import { pseudonymOf } from '../src/export/index.js';
import { csvObjects } from './fixtures/export/csv.js';
import {
  labvanced,
  ORIGIN,
  SECRETS,
  studyPlatforms,
  waitArchived,
} from './fixtures/export/drive-study.js';
import { exportCli } from './fixtures/export/run.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { prolificSignature } from './helpers/sign.js';

const KEY = 'another-export-key';
const SUBJ = 'LV-LEAK-4011';
/** The crowdsourcing id Labvanced was told. */
const PID = '61aaaaaaaaaaaaaaaaaaaa01';
/** A Prolific id that only a Labvanced subject variable holds (`var_data.subjectData.data`). */
const PID_SUBJECT_VAR = '61bbbbbbbbbbbbbbbbbbbb02';
/** The subject code of a session that started before `--since`. */
const LATE = 'LV-LATE-4022';
/** Values that must not be in a pseudonymised export. */
const RAW = [
  SUBJ,
  PID,
  PID_SUBJECT_VAR,
  LATE,
  'PC-NEST-5150',
  'WORKER-NEST-77',
  'MIXED-ID-88',
  'meta.mail@example.org',
  'trial.mail@example.org',
];

/** Every cell and column name of every Parquet file in `dir`, read back by DuckDB (inside compressed pages too). */
async function parquetText(dir: string): Promise<string> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  let text = '';
  try {
    for (const f of (await readdir(dir)).filter((x) => x.endsWith('.parquet'))) {
      const r = await conn.runAndReadAll(
        `SELECT * FROM read_parquet('${join(dir, f).replace(/'/g, "''")}')`,
      );
      text += `${r.columnNames().join('\n')}\n`;
      for (const row of r.getRowsJS()) text += `${row.map((v) => String(v)).join('\n')}\n`;
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return text;
}

/** Leaks found in review: identifiers where each platform's payloads can carry them. */
describe('studyhook export --pseudonymize: identifiers in nested values, names, error messages, --since', () => {
  let t: TestGateway;
  let tmp: string;
  let cut: string;
  const ns = 'psleak';
  const config = () => join(t.dataDir, 'studyhook.yml');
  before(async function () {
    this.timeout(60000);
    t = await startGateway({ platforms: studyPlatforms([ns]) });
    const a = { expId: 5, expSessionNr: 401 };
    await labvanced(t, ns, 'startFirstPlayerSession', { ...a, subject_code: SUBJ, groupNr: 1 });
    // The player sends the study's subject variables (URL parameters among them) nested in
    // var_data.subjectData.data (../shared/platforms/labvanced.md, /addMetaInfo).
    await labvanced(t, ns, 'addMetaInfo', {
      ...a,
      var_data: {
        crowdsourcinSubjId: PID,
        subjectData: {
          data: { PROLIFIC_PID: PID_SUBJECT_VAR, participant_code: 'PC-NEST-5150', age: 30 },
          scope: 'subject',
        },
        E_Mail: 'meta.mail@example.org',
        participant_id: 'PART-TOP-1',
        // A meta field named after the subject code.
        [`seen_${SUBJ}`]: true,
      },
    });
    await labvanced(t, ns, 'recordTrial', {
      ...a,
      recTaskId: 1,
      taskId: 't',
      trialNr: 1,
      recData: {
        data: {
          rt: 1,
          info: { meta: { worker_id: 'WORKER-NEST-77', lang: 'de' } },
          mixed: { subject_id: 'MIXED-ID-88' },
          e_mail: 'trial.mail@example.org',
          pid_correct: 1,
          // Variables and an object's field named after the participant's identifiers.
          [`${SUBJ}_answer`]: 'yes',
          partner: { [PID]: 'ready' },
        },
      },
    });
    await labvanced(t, ns, 'recordTrial', {
      ...a,
      recTaskId: 1,
      taskId: 't',
      trialNr: 2,
      recData: { data: { rt: 2, mixed: 'none', pid_correct: 0 } },
    });
    // A browser error names the page's URL, and with it the participant link's parameters.
    await labvanced(t, ns, 'errExpSession', {
      ...a,
      err_msg: `TypeError at https://www.labvanced.com/player.html?id=5&PROLIFIC_PID=${PID}&subject_code=${SUBJ}`,
    });
    await labvanced(t, ns, 'startFirstPlayerSession', {
      expId: 5,
      expSessionNr: 402,
      subject_code: LATE,
      groupNr: 1,
    });
    const raw = JSON.stringify({
      event_type: 'submission.status.change',
      resource_id: 'SUB-LEAK-1',
      participant_id: PID_SUBJECT_VAR,
      study_id: 'S-LEAK',
      status: 'APPROVED',
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const p = await request(t.gateway.app!)
      .post(`/prolific/${ns}`)
      .set({
        'content-type': 'application/json',
        'x-event-id': 'evt-leak-1',
        'x-timestamp': ts,
        'x-prolific-request-timestamp': ts,
        'x-prolific-request-signature': prolificSignature(SECRETS.prolific, ts, raw),
      })
      .send(raw);
    assert.equal(p.status, 200);
    await waitArchived(t, 7);
    // Session 402 started before --since; its trial and its file come after.
    await new Promise((r) => setTimeout(r, 50));
    cut = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    await labvanced(t, ns, 'recordTrial', {
      expId: 5,
      expSessionNr: 402,
      recTaskId: 2,
      taskId: 't',
      trialNr: 1,
      recData: { data: { rt: 3, who: `I am ${LATE}` } },
    });
    const up = await request(t.gateway.app!)
      .post(`/labvanced/${ns}/file_upload`)
      .set('Origin', ORIGIN)
      .field('expSessionNr', '402')
      .field('newFileName', `voice_${LATE}.webm`)
      .attach('myFile', Buffer.from('abc'), { filename: 'blob', contentType: 'audio/webm' });
    assert.equal(up.status, 200);
    await waitArchived(t, 9);
    tmp = await mkdtemp(join(tmpdir(), 'studyhook-psleak-'));
  });
  after(async () => {
    await t?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const run = async (out: string, ...args: string[]) => {
    const r = await exportCli(['--config', config(), '--namespace', ns, '--out', out, ...args]);
    assert.equal(r.code, 0, r.err);
  };
  const table = async (dir: string, name: string) =>
    csvObjects(await readFile(join(dir, `${name}.csv`), 'utf8'));
  const ps = (id: string) => pseudonymOf(KEY, id);

  it('pseudonymises identifier-named values nested in JSON, identifiers in column names and the error message; drops e_mail', async function () {
    this.timeout(30000);
    const out = join(tmp, 'csv');
    await run(out, '--pseudonymize', KEY);
    for (const f of await readdir(out)) {
      const text = await readFile(join(out, f), 'utf8');
      for (const id of RAW) assert.ok(!text.includes(id), `${id} found in ${f}`);
    }
    const [s] = await table(out, 'labvanced_sessions');
    // The subject variable's Prolific id has the pseudonym of the Prolific table: they still join.
    assert.equal(
      s!['var_data.subjectData.data'],
      `{"PROLIFIC_PID":"${ps(PID_SUBJECT_VAR)}","participant_code":"${ps('PC-NEST-5150')}","age":30}`,
    );
    const [sub] = await table(out, 'prolific_submissions');
    assert.equal(sub!['participant'], ps(PID_SUBJECT_VAR));
    assert.equal(s!['var_data.participant_id'], ps('PART-TOP-1'));
    assert.equal(
      s!['error_message'],
      `TypeError at https://www.labvanced.com/player.html?id=5&PROLIFIC_PID=${ps(PID)}&subject_code=${ps(SUBJ)}`,
    );
    assert.ok(!('var_data.E_Mail' in s!));
    const [t1, t2] = await table(out, 'labvanced_trials');
    assert.equal(t1!['info.meta'], `{"worker_id":"${ps('WORKER-NEST-77')}","lang":"de"}`);
    assert.equal(t1!['mixed'], `{"subject_id":"${ps('MIXED-ID-88')}"}`);
    assert.equal(t2!['mixed'], 'none');
    // Not an identifier: kept as recorded.
    assert.equal(t1!['pid_correct'], '1');
    // Column names carry the pseudonyms (header, Parquet schema, codebook).
    assert.equal(t1![`${ps(SUBJ)}_answer`], 'yes');
    assert.equal(t1![`partner.${ps(PID)}`], 'ready');
    assert.equal(s![`var_data.seen_${ps(SUBJ)}`], 'true');
    assert.ok(!('e_mail' in t1!));
    const codebook = JSON.parse(await readFile(join(out, 'codebook.json'), 'utf8')) as {
      tables: { name: string; dropped: { name: string }[]; columns: { name: string }[] }[];
    };
    const dropped = (n: string) => codebook.tables.find((x) => x.name === n)!.dropped;
    assert.ok(dropped('labvanced_trials').some((c) => c.name === 'e_mail'));
    assert.ok(dropped('labvanced_sessions').some((c) => c.name === 'var_data.E_Mail'));
    const md = await readFile(join(out, 'codebook.md'), 'utf8');
    assert.match(md, /`error_message` \| text \| .*identifiers in it pseudonymised/);
    // Parquet: the bytes, and every cell read back (compressed pages included).
    const pq = join(tmp, 'parquet');
    await run(pq, '--pseudonymize', KEY, '--format', 'parquet');
    const cells = await parquetText(pq);
    assert.ok(cells.includes(ps(PID_SUBJECT_VAR)));
    for (const f of await readdir(pq)) {
      const bytes = await readFile(join(pq, f), 'latin1');
      for (const id of RAW) assert.ok(!bytes.includes(id), `${id} found in ${f}`);
    }
    for (const id of RAW) assert.ok(!cells.includes(id), `${id} found in a Parquet cell`);
  });

  it('replaces the identifiers of a session that started before --since in its later file names and trials', async function () {
    this.timeout(30000);
    const out = join(tmp, 'since');
    await run(out, '--pseudonymize', KEY, '--since', cut);
    for (const f of await readdir(out)) {
      const text = await readFile(join(out, f), 'utf8');
      for (const id of RAW) assert.ok(!text.includes(id), `${id} found in ${f}`);
    }
    const [file] = await table(out, 'labvanced_files');
    assert.equal(file!['file_name'], `voice_${ps(LATE)}.webm`);
    const trials = await table(out, 'labvanced_trials');
    assert.deepEqual(
      trials.map((x) => x['who']),
      [`I am ${ps(LATE)}`],
    );
  });

  it("refuses to write next to an earlier export's tables that it would not replace", async function () {
    this.timeout(30000);
    const out = join(tmp, 'reused');
    await run(out);
    // A plain CSV export is there; a pseudonymised Parquet export would have left its CSVs beside it.
    const r = await exportCli([
      '--config',
      config(),
      '--namespace',
      ns,
      '--out',
      out,
      '--pseudonymize',
      KEY,
      '--format',
      'parquet',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, /holds .*labvanced_trials\.csv.* from an earlier export/);
    assert.ok(!(await readdir(out)).some((f) => f.endsWith('.parquet')));
    // The same format replaces every table file: nothing of the plain export is left.
    await run(out, '--pseudonymize', KEY);
    for (const f of await readdir(out)) {
      const text = await readFile(join(out, f), 'utf8');
      for (const id of RAW) assert.ok(!text.includes(id), `${id} found in ${f}`);
    }
  });

  it('without --pseudonymize leaves every value and the codebook as before', async function () {
    this.timeout(30000);
    const out = join(tmp, 'plain');
    await run(out);
    const [s] = await table(out, 'labvanced_sessions');
    assert.equal(
      s!['var_data.subjectData.data'],
      `{"PROLIFIC_PID":"${PID_SUBJECT_VAR}","participant_code":"PC-NEST-5150","age":30}`,
    );
    assert.equal(s!['var_data.E_Mail'], 'meta.mail@example.org');
    assert.match(s!['error_message']!, new RegExp(`PROLIFIC_PID=${PID}&subject_code=${SUBJ}`));
    const [t1] = await table(out, 'labvanced_trials');
    assert.equal(t1!['e_mail'], 'trial.mail@example.org');
    // The codebook of a plain export is the one before the name rule: a recorded field named as an
    // identifier is documented as any other text field (free text that can mention identifiers).
    const codebook = JSON.parse(await readFile(join(out, 'codebook.json'), 'utf8')) as {
      tables: { name: string; columns: Record<string, unknown>[] }[];
    };
    const sessions = codebook.tables.find((x) => x.name === 'labvanced_sessions')!.columns;
    const field = sessions.find((c) => c['name'] === 'var_data.participant_id')!;
    assert.deepEqual(
      { identifier: field['identifier'], mentions: field['mentions'] },
      { identifier: undefined, mentions: true },
    );
    assert.equal(sessions.find((c) => c['name'] === 'error_message')!['mentions'], undefined);
    assert.equal(t1![`${SUBJ}_answer`], 'yes');
    const trials = codebook.tables.find((x) => x.name === 'labvanced_trials')!.columns;
    assert.ok(!trials.some((c) => 'identifier' in c && c['name'] !== 'participant'));
  });
});
