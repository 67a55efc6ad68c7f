import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { study } from '../src/commands/study.js';
import { driveStudy, studyPlatforms, waitArchived } from './fixtures/export/drive-study.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/run-cli.js';

const GOLDEN = new URL('./fixtures/study/five-platforms.golden.txt', import.meta.url).pathname;
const ADMIN = 'five-platforms-admin-token-0123456789';

/** Times of arrival and the archive's file names change from run to run; nothing else may. */
const mask = (s: string): string =>
  s
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, (t) =>
      t.startsWith('2026-05-01') || t.startsWith('2018-') ? t : '<time>',
    )
    .replace(/"computeMs": \d+/g, '"computeMs": <ms>');

/**
 * The study feature on every platform at once (the other study tests use Prolific and Labvanced
 * only): what `studyhook study` prints and what the study page serves, byte for byte against a
 * golden file. `STUDYHOOK_WRITE_GOLDEN=1` rewrites the file.
 */
describe('studyhook study: a study on all five platforms, byte for byte', function () {
  this.timeout(60000);
  let t: TestGateway;
  const cfg = () => join(t.dataDir, 'studyhook.yml');
  const cli = async (...args: string[]) => {
    const r = await runCli(study, [...args, '--config', cfg()]);
    return `$ studyhook study ${args.join(' ')}\n[exit ${r.code}]\n${r.out}${r.err ? `[stderr]\n${r.err}` : ''}`;
  };

  before(async () => {
    t = await startGateway({
      admin: { token: ADMIN },
      platforms: { ...studyPlatforms(['multi']), labvanced: { namespaces: { multi: {} } } },
      studies: {
        all: {
          namespaces: {
            prolific: 'multi',
            labvanced: 'multi',
            mydatahelps: 'multi',
            actigraph: 'multi',
            sensorlogger: 'multi',
          },
          participant: { labvanced: 'var_data.crowdsourcinSubjId', mydatahelps: 'ParticipantID' },
          expect: { labvanced: { trials: 3, files: 1 }, mydatahelps: { surveys: 2 } },
        },
        devices: {
          namespaces: { mydatahelps: 'multi', actigraph: 'multi', sensorlogger: 'multi' },
          expect: { actigraph: { uploads: 2 } },
        },
      },
    });
    await waitArchived(t, await driveStudy(t, 'multi'));
  });
  after(async () => {
    await t?.close();
  });

  it('prints the same status, participants (text, CSV, JSON), approval plan and study page as before', async () => {
    const parts: string[] = [];
    for (const s of ['all', 'devices', 'multi']) {
      parts.push(await cli('status', s));
      parts.push(await cli('status', s, '--format', 'json'));
      parts.push(await cli('participants', s));
      parts.push(await cli('participants', s, '--format', 'csv'));
      parts.push(await cli('participants', s, '--format', 'json'));
      parts.push(await cli('approve', s));
    }
    const app = t.gateway.app!;
    for (const path of ['/admin/studies', '/admin/studies/all', '/admin/studies/devices']) {
      const r = await request(app).get(path).auth('admin', ADMIN).expect(200);
      parts.push(`GET ${path}\n${r.text}\n`);
    }
    const r = await request(app).get('/admin/studies/all/data.json').auth('admin', ADMIN);
    const data = r.body as Record<string, unknown>;
    parts.push(
      `GET /admin/studies/all/data.json (summary, participants, funnel)\n${JSON.stringify(
        { summary: data['summary'], participants: data['participants'], funnel: data['funnel'] },
        null,
        2,
      )}\n`,
    );
    const got = mask(parts.join('\n'));
    if (process.env['STUDYHOOK_WRITE_GOLDEN'] === '1') await writeFile(GOLDEN, got);
    const want = (await readFile(GOLDEN, 'utf8')).split('\n');
    const lines = got.split('\n');
    // why: the first differing line with its neighbours, as the whole text would be cut short in the report.
    const first = lines.findIndex((l, i) => l !== want[i]);
    const at = first >= 0 ? first : Math.min(lines.length, want.length);
    const near = (x: string[]) => x.slice(Math.max(0, at - 8), at + 4).join('\n');
    if (first >= 0 || lines.length !== want.length)
      assert.equal(near(lines), near(want), `line ${at + 1} differs from the golden file`);
  });
});
