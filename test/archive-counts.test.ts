import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArchiveCounts } from '../src/http/archive-counts.js';

const line = (id: string, receivedat: string, data = '') =>
  `${JSON.stringify({ id, type: 't', receivedat, data })}\n`;

describe('archive counts for the dashboard (incremental reads of the archive files)', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-counts-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts per namespace and hour, reads only what was appended, and counts a line once it is whole', async () => {
    const now = Date.parse('2026-12-05T10:30:00Z');
    const file = join(dir, 'prolific', 'lab', '2026-12-05.jsonl');
    await mkdir(join(dir, 'prolific', 'lab'), { recursive: true });
    await mkdir(join(dir, 'labvanced', 'stroop'), { recursive: true });
    await writeFile(
      file,
      line('a', '2026-12-05T08:10:00.000Z') +
        line('b', '2026-12-05T10:05:00.000Z', 'é'.repeat(70_000)),
    );
    await writeFile(
      join(dir, 'labvanced', 'stroop', '2026-12-03.jsonl'),
      line('c', '2026-12-03T09:00:00.000Z'),
    );
    const counts = createArchiveCounts(dir);
    await counts.update();
    assert.deepEqual(counts.namespaces(now), [
      {
        platform: 'labvanced',
        namespace: 'stroop',
        events: 1,
        last24h: 0,
        lastReceived: '2026-12-03T09:00:00.000Z',
      },
      {
        platform: 'prolific',
        namespace: 'lab',
        events: 2,
        last24h: 2,
        lastReceived: '2026-12-05T10:05:00.000Z',
      },
    ]);
    // Half a line (a write in progress) is not counted until its newline arrives.
    const next = line('d', '2026-12-05T10:20:00.000Z');
    await appendFile(file, next.slice(0, 20));
    await counts.update();
    assert.equal(counts.namespaces(now)[1]!.events, 2);
    await appendFile(file, next.slice(20));
    await counts.update();
    assert.equal(counts.namespaces(now)[1]!.events, 3);
    const { hours, platforms } = counts.hourly(3, now);
    assert.deepEqual(hours, ['2026-12-05T08', '2026-12-05T09', '2026-12-05T10']);
    assert.deepEqual(platforms, { prolific: [1, 0, 2] });
  });

  it('counts a file again from the start when it shrank (replaced), and answers empty without an archive', async () => {
    const counts = createArchiveCounts(join(dir, 'missing'));
    await counts.update();
    assert.deepEqual(counts.namespaces(), []);
    const file = join(dir, 'missing', 'sensorlogger', 'pilot', 'd.jsonl');
    await mkdir(join(dir, 'missing', 'sensorlogger', 'pilot'), { recursive: true });
    await writeFile(
      file,
      line('a', '2026-12-05T08:10:00.000Z') + line('b', '2026-12-05T08:11:00.000Z'),
    );
    await counts.update();
    assert.equal(counts.namespaces()[0]!.events, 2);
    await writeFile(file, line('c', '2026-12-05T08:12:00.000Z'));
    await counts.update();
    assert.equal(counts.namespaces()[0]!.events, 1);
  });
});
