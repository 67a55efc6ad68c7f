import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExport } from '../src/export/index.js';
import { csvObjects } from './fixtures/export/csv.js';

/** A trial as the filesystem sink archives it, with `recData.data` as given. */
function trial(n: number, data: unknown): string {
  const at = new Date(Date.UTC(2026, 4, 1, 8, 0, n)).toISOString();
  return JSON.stringify({
    specversion: '1.0',
    id: `trial-${n}`,
    source: '/labvanced/shapes',
    type: 'labvanced.trial.recorded',
    time: at,
    datacontenttype: 'application/json',
    platform: 'labvanced',
    namespace: 'shapes',
    receivedat: at,
    requestid: `request-${n}`,
    data: { expId: 1, expSessionNr: 1, recTaskId: 1, taskId: 't', trialNr: n, recData: { data } },
  });
}

describe('studyhook export: trials whose recData.data is not an object', function () {
  this.timeout(60000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'studyhook-export-shapes-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('keeps what such a trial recorded in the JSON column of every variable, instead of nothing', async () => {
    // The trial schema only asks recData to be an object: the gateway archives any `data` in it.
    const dir = join(tmp, 'events', 'labvanced', 'shapes');
    await mkdir(dir, { recursive: true });
    const lines = [
      trial(1, { rt: 1 }),
      trial(2, [512, 'left']),
      trial(3, 'rt=5'),
      trial(4, 7),
      trial(5, null),
    ];
    await writeFile(join(dir, '2026-05-01.jsonl'), `${lines.join('\n')}\n`);
    const out = join(tmp, 'out');
    await runExport({ archiveDir: join(tmp, 'events'), namespace: 'shapes', out, format: 'csv' });
    const rows = csvObjects(await readFile(join(out, 'labvanced_trials.csv'), 'utf8'));
    assert.deepEqual(
      rows.map((r) => [r['event_id'], r['rt'], r['variables']]),
      [
        ['trial-1', '1', '{"rt":1}'],
        ['trial-2', '', '[512,"left"]'],
        ['trial-3', '', '"rt=5"'],
        ['trial-4', '', '7'],
        ['trial-5', '', ''],
      ],
    );
  });

  it('keeps them, and variables named with a NUL character, when no trial has a variable with a column', async () => {
    const dir = join(tmp, 'events', 'labvanced', 'nocolumn');
    await mkdir(dir, { recursive: true });
    const lines = [trial(1, [1, 2]), trial(2, { ['a\u0000b']: 3 })].map((l) =>
      l.replace(/shapes/g, 'nocolumn'),
    );
    await writeFile(join(dir, '2026-05-01.jsonl'), `${lines.join('\n')}\n`);
    const out = join(tmp, 'out-nocolumn');
    await runExport({ archiveDir: join(tmp, 'events'), namespace: 'nocolumn', out, format: 'csv' });
    const rows = csvObjects(await readFile(join(out, 'labvanced_trials.csv'), 'utf8'));
    assert.deepEqual(
      rows.map((r) => [r['event_id'], r['variables']]),
      [
        ['trial-1', '[1,2]'],
        ['trial-2', '{"a\\u0000b":3}'],
      ],
    );
  });
});
