import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExport } from '../src/export/index.js';
import { csvObjects } from './fixtures/export/csv.js';

/** A session's meta information (`/addMetaInfo`), as the filesystem sink archives it. */
function meta(session: number, varData: Record<string, unknown>): string {
  return JSON.stringify({
    specversion: '1.0',
    id: `meta-${session}`,
    source: '/labvanced/meta',
    type: 'labvanced.session.meta',
    time: '2026-05-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    platform: 'labvanced',
    namespace: 'meta',
    receivedat: '2026-05-01T00:00:01.000Z',
    requestid: `request-${session}`,
    data: { expSessionNr: session, var_data: varData },
  });
}

describe("studyhook export: the sessions' meta information", function () {
  this.timeout(60000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'studyhook-export-meta-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('keeps whole numbers past 64 bits (as the gateway archives them) instead of empty cells', async () => {
    // JSON.stringify, which archives what a browser sent, writes 1e20 as 21 digits and 1e21 up in
    // exponent form: no 64-bit integer holds either.
    const dir = join(tmp, 'events', 'labvanced', 'meta');
    await mkdir(dir, { recursive: true });
    const lines = [
      meta(1, { x: 1e20, y: 5 }),
      meta(2, { x: 7, y: 1e21 }),
      meta(3, { x: 3, y: 1e300 }),
    ];
    await writeFile(join(dir, '2026-05-01.jsonl'), `${lines.join('\n')}\n`);
    const out = join(tmp, 'out');
    await runExport({ archiveDir: join(tmp, 'events'), namespace: 'meta', out, format: 'csv' });
    const rows = csvObjects(await readFile(join(out, 'labvanced_sessions.csv'), 'utf8'));
    assert.deepEqual(
      rows.map((r) => [Number(r['var_data.x']), Number(r['var_data.y'])]),
      [
        [1e20, 5],
        [7, 1e21],
        [3, 1e300],
      ],
      JSON.stringify(rows.map((r) => [r['var_data.x'], r['var_data.y']])),
    );
  });
});
