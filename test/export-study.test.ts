import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvObjects, maskCsv } from './fixtures/export/csv.js';
import { driveStudy, studyPlatforms, waitArchived } from './fixtures/export/drive-study.js';
import { exportCli } from './fixtures/export/run.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const GOLDEN = new URL('./fixtures/export/golden/', import.meta.url).pathname;
const TABLES = [
  'labvanced_trials',
  'labvanced_sessions',
  'labvanced_files',
  'prolific_submissions',
  'prolific_studies',
  'sensorlogger_uploads',
  'actigraph_uploads',
  'mydatahelps_surveys',
  'mydatahelps_schedules',
];

/** One study driven through the real gateway for all five platforms; every test exports its archive. */
describe('studyhook export: every table from a study driven through the pipeline', () => {
  let t: TestGateway;
  let out: string;
  const window = { from: '', to: '' };
  const config = () => join(t.dataDir, 'studyhook.yml');

  before(async function () {
    this.timeout(60000);
    t = await startGateway({ platforms: studyPlatforms(['study']) });
    window.from = new Date().toISOString();
    const n = await driveStudy(t, 'study');
    await waitArchived(t, n);
    window.to = new Date().toISOString();
    out = await mkdtemp(join(tmpdir(), 'studyhook-export-'));
  });
  after(async () => {
    await t?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('writes every table of the five platforms with the exact rows and columns of the golden files, and a codebook', async function () {
    this.timeout(30000);
    const r = await exportCli([
      '--config',
      config(),
      '--namespace',
      'study',
      '--out',
      join(out, 'csv'),
    ]);
    assert.equal(r.code, 0, r.err);
    const files = (await readdir(join(out, 'csv'))).sort();
    assert.deepEqual(
      files,
      [...TABLES.map((x) => `${x}.csv`), 'codebook.json', 'codebook.md'].sort(),
    );
    for (const table of TABLES) {
      const got = maskCsv(await readFile(join(out, 'csv', `${table}.csv`), 'utf8'), window);
      if (process.env['UPDATE_GOLDEN']) await writeFile(join(GOLDEN, `${table}.csv`), got);
      assert.equal(got, await readFile(join(GOLDEN, `${table}.csv`), 'utf8'), table);
    }
    const codebook = await readFile(join(out, 'csv', 'codebook.md'), 'utf8');
    if (process.env['UPDATE_GOLDEN']) await writeFile(join(GOLDEN, 'codebook.md'), codebook);
    assert.equal(codebook, await readFile(join(GOLDEN, 'codebook.md'), 'utf8'));
    assert.match(r.out, /labvanced_trials\.csv: 4 row\(s\)/);
  });

  it('gives each trial its event id and the session its counts, joined on session', async function () {
    this.timeout(30000);
    const r = await exportCli([
      '--config',
      config(),
      '--namespace',
      'study',
      '--out',
      join(out, 'ids'),
    ]);
    assert.equal(r.code, 0, r.err);
    const day = (await readdir(join(t.dataDir, 'events', 'labvanced', 'study')))[0]!;
    const archived = (await readFile(join(t.dataDir, 'events', 'labvanced', 'study', day), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; type: string });
    const trials = csvObjects(await readFile(join(out, 'ids', 'labvanced_trials.csv'), 'utf8'));
    assert.deepEqual(
      trials.map((x) => x['event_id']).sort(),
      archived
        .filter((e) => e.type === 'labvanced.trial.recorded')
        .map((e) => e.id)
        .sort(),
    );
    const sessions = csvObjects(await readFile(join(out, 'ids', 'labvanced_sessions.csv'), 'utf8'));
    for (const s of sessions)
      assert.equal(Number(s['trials']), trials.filter((x) => x['session'] === s['session']).length);
    const files = csvObjects(await readFile(join(out, 'ids', 'labvanced_files.csv'), 'utf8'));
    const blob = await readFile(join(t.dataDir, files[0]!['blob_path']!), 'utf8');
    assert.equal(blob, 'RIFF-not-really-audio', 'blob_path leads to the uploaded bytes');
  });
});
