import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { pseudonymOf, runExport } from '../src/export/index.js';
import { csvObjects } from './fixtures/export/csv.js';
import {
  actigraph,
  labvanced,
  ORIGIN,
  studyPlatforms,
  waitArchived,
} from './fixtures/export/drive-study.js';
import { exportCli } from './fixtures/export/run.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const KEY = 'a-secret-export-key';
/** A Prolific id as Prolific writes them (24 hex digits), which Labvanced recorded as well. */
const PID = '60f1a2b3c4d5e6f708192a3b';
const SUBJ = 'LV-SUBJ-202';
const AG = 'AG-SUBJ-777';
/** A Prolific id only a meta field holds (Labvanced was not told it). */
const PID2 = '60f1a2b3c4d5e6f708192a3c';

/** Identifiers that reach free text: a file name, a meta field, an error message. */
describe('studyhook export --pseudonymize: identifiers inside free text', () => {
  let t: TestGateway;
  let tmp: string;
  const ns = 'pstext';
  const JSON_NS = 'pstextjson';
  before(async function () {
    this.timeout(60000);
    t = await startGateway({ platforms: studyPlatforms([ns, JSON_NS]) });
    const a = { expId: 77, expSessionNr: 201 };
    await labvanced(t, ns, 'startFirstPlayerSession', { ...a, groupNr: 1, sessionNr: 1 });
    // Labvanced on Prolific: the id is the crowdsourcing id, and the study also kept the URL's PROLIFIC_PID.
    await labvanced(t, ns, 'addMetaInfo', {
      ...a,
      var_data: { crowdsourcinSubjId: PID, PROLIFIC_PID: PID, STUDY_ID: 'st', screenWidth: 1920 },
    });
    const up = await request(t.gateway.app!)
      .post(`/labvanced/${ns}/file_upload`)
      .set('Origin', ORIGIN)
      .field('expSessionNr', '201')
      .field('newFileName', `voice_${PID}.webm`)
      .attach('myFile', Buffer.from('abc'), { filename: 'blob', contentType: 'audio/webm' });
    assert.equal(up.status, 200);
    const b = { expId: 77, expSessionNr: 202 };
    await labvanced(t, ns, 'startFirstPlayerSession', { ...b, subject_code: SUBJ, groupNr: 1 });
    await labvanced(t, ns, 'addMetaInfo', { ...b, var_data: { subjectCode: SUBJ } });
    // Trial variables: the URL's PROLIFIC_PID recorded as a variable, once inside a longer text.
    await labvanced(t, ns, 'recordTrial', {
      ...a,
      recTaskId: 1,
      taskId: 't',
      trialNr: 1,
      recData: { data: { rt: 300, PROLIFIC_PID: PID, note: `id=${PID}`, pos: { x: PID } } },
    });
    await labvanced(t, ns, 'recordTrial', {
      ...b,
      recTaskId: 2,
      taskId: 't',
      trialNr: 1,
      recData: { data: { rt: 1, subject: SUBJ } },
    });
    // A study that keeps identifiers under names that say so, none of them known to Labvanced.
    const c = { expId: 77, expSessionNr: 203 };
    await labvanced(t, ns, 'addMetaInfo', {
      ...c,
      var_data: { PROLIFIC_PID: PID2, participant_id: 'PART-0055' },
    });
    await labvanced(t, ns, 'recordTrial', {
      ...c,
      recTaskId: 3,
      taskId: 't',
      trialNr: 1,
      recData: { data: { rt: 2, workerId: 'A1B2C3D4E5', subject_id: 4711 } },
    });
    // Names DuckDB cannot make struct fields of (equal but for case) make the trials read as JSON.
    await labvanced(t, JSON_NS, 'startFirstPlayerSession', { ...b, subject_code: SUBJ });
    await labvanced(t, JSON_NS, 'recordTrial', {
      ...b,
      recTaskId: 2,
      taskId: 't',
      trialNr: 1,
      recData: { data: { rt: 1, RT: 2, subject: SUBJ } },
    });
    await actigraph(t, ns, 'd1', { status: 'started', uploadId: '1', studyId: '8', subjectId: AG });
    await actigraph(t, ns, 'd2', {
      status: 'error',
      uploadId: '1',
      studyId: '8',
      subjectId: AG,
      message: `Upload for subject ${AG} failed`,
    });
    await waitArchived(t, 13);
    tmp = await mkdtemp(join(tmpdir(), 'studyhook-pstext-'));
  });
  after(async () => {
    await t?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('replaces the participant identifiers in file names, meta fields and error messages by their pseudonyms', async function () {
    this.timeout(30000);
    const out = join(tmp, 'pseudo');
    const r = await exportCli([
      '--config',
      join(t.dataDir, 'studyhook.yml'),
      '--namespace',
      ns,
      '--pseudonymize',
      KEY,
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.err);
    for (const f of await readdir(out)) {
      const text = await readFile(join(out, f), 'utf8');
      for (const id of [PID, SUBJ, AG, PID2, 'PART-0055', 'A1B2C3D4E5', '4711'])
        assert.ok(!text.includes(id), `${id} found in ${f}`);
    }
    const read = async (table: string) =>
      csvObjects(await readFile(join(out, `${table}.csv`), 'utf8'));
    const [files] = await read('labvanced_files');
    assert.equal(files!['file_name'], `voice_${pseudonymOf(KEY, PID)}.webm`);
    assert.equal(files!['participant'], pseudonymOf(KEY, PID));
    const sessions = await read('labvanced_sessions');
    assert.equal(sessions[0]!['var_data.PROLIFIC_PID'], pseudonymOf(KEY, PID));
    assert.equal(sessions[0]!['var_data.STUDY_ID'], 'st');
    assert.equal(sessions[0]!['var_data.screenWidth'], '1920');
    assert.equal(sessions[1]!['var_data.subjectCode'], pseudonymOf(KEY, SUBJ));
    const trials = await read('labvanced_trials');
    assert.equal(trials[0]!['PROLIFIC_PID'], pseudonymOf(KEY, PID));
    assert.equal(trials[0]!['note'], `id=${pseudonymOf(KEY, PID)}`);
    assert.equal(trials[0]!['pos.x'], pseudonymOf(KEY, PID));
    assert.equal(trials[0]!['rt'], '300');
    assert.equal(trials[1]!['subject'], pseudonymOf(KEY, SUBJ));
    // Fields named as identifiers are pseudonymised whole, so they join the platform's own tables.
    assert.equal(sessions[2]!['var_data.PROLIFIC_PID'], pseudonymOf(KEY, PID2));
    assert.equal(sessions[2]!['var_data.participant_id'], pseudonymOf(KEY, 'PART-0055'));
    assert.equal(trials[2]!['workerId'], pseudonymOf(KEY, 'A1B2C3D4E5'));
    assert.equal(trials[2]!['subject_id'], pseudonymOf(KEY, '4711'));
    assert.equal(trials[2]!['rt'], '2');
    const json = join(tmp, 'json');
    const j = await exportCli([
      '--config',
      join(t.dataDir, 'studyhook.yml'),
      '--namespace',
      JSON_NS,
      '--pseudonymize',
      KEY,
      '--out',
      json,
    ]);
    assert.equal(j.code, 0, j.err);
    const [trial] = csvObjects(await readFile(join(json, 'labvanced_trials.csv'), 'utf8'));
    assert.equal(trial!['subject'], pseudonymOf(KEY, SUBJ));
    assert.equal(trial!['participant'], pseudonymOf(KEY, SUBJ));
    assert.equal(trial!['var.RT'], '2');
    const [upload] = await read('actigraph_uploads');
    assert.equal(upload!['message'], `Upload for subject ${pseudonymOf(KEY, AG)} failed`);
    const codebook = await readFile(join(out, 'codebook.md'), 'utf8');
    assert.match(codebook, /`file_name` \| text \| .*identifiers in it pseudonymised/);
    assert.match(codebook, /`subject_id` \| text \| .*\*\*\(pseudonymised\)\*\*/);
    // Without --pseudonymize the text is as sent.
    const plain = join(tmp, 'plain');
    const p = await exportCli([
      '--config',
      join(t.dataDir, 'studyhook.yml'),
      '--namespace',
      ns,
      '--out',
      plain,
    ]);
    assert.equal(p.code, 0, p.err);
    const [plainFile] = csvObjects(await readFile(join(plain, 'labvanced_files.csv'), 'utf8'));
    assert.equal(plainFile!['file_name'], `voice_${PID}.webm`);
    const plainTrials = csvObjects(await readFile(join(plain, 'labvanced_trials.csv'), 'utf8'));
    assert.equal(plainTrials[2]!['subject_id'], '4711');
    assert.ok(!(await readFile(join(plain, 'codebook.md'), 'utf8')).includes('identifiers in it'));
  });

  it('refuses an empty key given to runExport, as the CLI does', async function () {
    this.timeout(30000);
    await assert.rejects(
      runExport({
        archiveDir: join(t.dataDir, 'events'),
        namespace: ns,
        out: join(tmp, 'empty-key'),
        format: 'csv',
        pseudonymize: '',
      }),
      /needs a key/,
    );
  });
});
