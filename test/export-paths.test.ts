import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportError, runExport } from '../src/export/index.js';
import { waitFor } from './helpers/gateway.js';
import { root, studyhookArgs } from './helpers/studyhook-cli.js';

/** A trial as the filesystem sink archives it. */
function trial(ns: string, id: string, vars: Record<string, unknown>): string {
  const at = '2026-05-01T08:00:00.000Z';
  return JSON.stringify({
    specversion: '1.0',
    id,
    source: `/labvanced/${ns}`,
    type: 'labvanced.trial.recorded',
    time: at,
    datacontenttype: 'application/json',
    platform: 'labvanced',
    namespace: ns,
    receivedat: at,
    requestid: `request-${id}`,
    participantid: 'P1',
    data: {
      expId: 1,
      expSessionNr: 1,
      recTaskId: 1,
      taskId: 't',
      trialNr: 1,
      recData: { data: vars },
    },
  });
}

/** Writes `<archiveDir>/labvanced/<ns>/2026-05-01.jsonl`. */
async function archive(archiveDir: string, ns: string, lines: string[]): Promise<void> {
  await mkdir(join(archiveDir, 'labvanced', ns), { recursive: true });
  await writeFile(join(archiveDir, 'labvanced', ns, '2026-05-01.jsonl'), `${lines.join('\n')}\n`);
}

describe('studyhook export: where the archive and the output are', function () {
  this.timeout(60000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'studyhook-export-paths-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('reads only its own archive when the path holds *, ? or [ ] (not other directories they would match)', async () => {
    // Each archive directory's name would, as a glob, match a sibling holding another study.
    for (const [mine, other] of [
      ['Stroop [2026]', 'Stroop 2'],
      ['pilot*', 'pilot-b'],
      ['run?', 'run2'],
    ] as const) {
      await archive(join(tmp, other, 'events'), 'ns', [
        trial('ns', `other-${other}`, { who: 'other' }),
      ]);
      await archive(join(tmp, mine, 'events'), 'ns', [
        trial('ns', `mine-${mine}`, { who: 'mine' }),
      ]);
      const out = join(tmp, `out ${mine}`);
      const r = await runExport({
        archiveDir: join(tmp, mine, 'events'),
        namespace: 'ns',
        out,
        format: 'csv',
      });
      assert.equal(r.lines, 1, mine);
      const rows = (await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
      assert.equal(rows.length, 2, `${mine}: ${rows.join(' | ')}`);
      assert.ok(rows[1]!.includes(`mine-${mine}`) && rows[1]!.endsWith(',mine'), rows[1]);
    }
  });

  it('writes nothing outside --out through a stale .part left there as a symlink', async () => {
    await archive(join(tmp, 'plain'), 'ns', [trial('ns', 'one', { rt: 1 })]);
    const out = join(tmp, 'out-links');
    await mkdir(out, { recursive: true });
    // A .part of a run that died, or planted, pointing out of --out.
    const victims = ['labvanced_trials.csv', 'codebook.md'].map((f) => join(tmp, `victim-${f}`));
    for (const [i, f] of ['labvanced_trials.csv', 'codebook.md'].entries()) {
      await writeFile(victims[i]!, 'keep me');
      await symlink(victims[i]!, join(out, `${f}.part`));
    }
    await runExport({ archiveDir: join(tmp, 'plain'), namespace: 'ns', out, format: 'csv' });
    for (const v of victims) assert.equal(await readFile(v, 'utf8'), 'keep me', v);
    for (const f of ['labvanced_trials.csv', 'codebook.md'])
      assert.ok((await lstat(join(out, f))).isFile(), `${f} is a file of its own`);
    assert.ok((await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).includes(',one,'));
  });

  it('refuses a --since after --until instead of writing every table empty', async () => {
    await archive(join(tmp, 'range'), 'ns', [trial('ns', 'one', { rt: 1 })]);
    const out = join(tmp, 'out-range');
    await assert.rejects(
      runExport({
        archiveDir: join(tmp, 'range'),
        namespace: 'ns',
        out,
        format: 'csv',
        since: new Date('2026-06-01T00:00:00Z'),
        until: new Date('2026-05-31T23:59:59.999Z'),
      }),
      (err: Error) => err instanceof ExportError && /--since .* is after --until/.test(err.message),
    );
    await assert.rejects(readFile(join(out, 'labvanced_trials.csv')), { code: 'ENOENT' });
  });

  it('leaves no .part file and no temporary directory when interrupted (Ctrl-C)', async () => {
    await archive(join(tmp, 'stop'), 'ns', [trial('ns', 'one', { rt: 1 })]);
    const out = join(tmp, 'out-stop');
    // why a temporary directory of its own: other files' exports, run at the same time in other
    // workers, make and remove theirs in the shared one.
    const own = join(tmp, 'tmpdir');
    await mkdir(own);
    const shared = process.env['TMPDIR'];
    process.env['TMPDIR'] = own;
    const stop = new AbortController();
    try {
      await assert.rejects(
        runExport({
          archiveDir: join(tmp, 'stop'),
          namespace: 'ns',
          out,
          format: 'csv',
          signal: stop.signal,
          step: (label) => {
            // The export's temporary directory is there while it runs.
            if (!label.startsWith('writing labvanced_sessions')) return;
            assert.equal(
              readdirSync(own).filter((f) => f.startsWith('studyhook-export-')).length,
              1,
            );
            stop.abort();
          },
        }),
        /interrupted/,
      );
    } finally {
      if (shared === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = shared;
    }
    assert.deepEqual(
      (await readdir(out)).filter((f) => f.endsWith('.part')),
      [],
    );
    assert.deepEqual(await readdir(own), []);
  });

  it('leaves the previous export as it was when the next one is interrupted midway, not a mix of both', async () => {
    const dir = join(tmp, 'again');
    await archive(dir, 'ns', [trial('ns', 'one', { rt: 1 })]);
    const out = join(tmp, 'out-again');
    await runExport({ archiveDir: dir, namespace: 'ns', out, format: 'csv' });
    const files = async () => {
      const names = (await readdir(out)).sort();
      return Object.fromEntries(
        await Promise.all(names.map(async (f) => [f, await readFile(join(out, f), 'utf8')])),
      );
    };
    const before = await files();
    // A second trial changes every table and the codebook's row counts.
    await archive(dir, 'ns', [
      trial('ns', 'one', { rt: 1 }),
      trial('ns', 'two', { rt: 2, x: 'y' }),
    ]);
    const stop = new AbortController();
    let writing = 0;
    await assert.rejects(
      runExport({
        archiveDir: dir,
        namespace: 'ns',
        out,
        format: 'csv',
        signal: stop.signal,
        step: (label) => {
          if (label.startsWith('writing ') && ++writing === 2) stop.abort();
        },
      }),
      /interrupted/,
    );
    assert.equal(writing, 2, 'stopped after a first table was written');
    assert.deepEqual(await files(), before);
  });

  it('removes its temporary directory on a second Ctrl-C too, which ends it at once', async () => {
    const lines = Array.from({ length: 2000 }, (_v, n) => trial('ns', `t${n}`, { rt: n, s: 'x' }));
    await archive(join(tmp, 'twice'), 'ns', lines);
    const own = join(tmp, 'tmpdir-twice');
    await mkdir(own);
    const child = spawn(
      process.execPath,
      [
        ...studyhookArgs(),
        'export',
        '--archive-dir',
        join(tmp, 'twice'),
        '--namespace',
        'ns',
        '--out',
        join(tmp, 'out-twice'),
      ],
      { cwd: root, env: { ...process.env, TMPDIR: own }, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor('the export to make its temporary directory', () =>
      readdirSync(own).some((f) => f.startsWith('studyhook-export-')),
    );
    // why stopped first: both signals are then pending together and handled in one go, the
    // second before the first one's clean-up (which takes a while) could finish. (Two of the same
    // signal would merge into one.)
    child.kill('SIGSTOP');
    child.kill('SIGINT');
    child.kill('SIGTERM');
    child.kill('SIGCONT');
    assert.notEqual(await exited, 0);
    // (tsx, which runs the command from source in tests, keeps its cache there too)
    assert.deepEqual(
      (await readdir(own)).filter((f) => f.startsWith('studyhook-export-')),
      [],
    );
  });
});
