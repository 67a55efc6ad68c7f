import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEvent } from '../src/event/build-event.js';
import { adoptOrphans, type HeartbeatWatch } from '../src/queue/spool-adoption.js';
import { createSpoolJournal } from '../src/queue/spool-journal.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor } from './helpers/gateway.js';

const me = hostname().replace(/[^A-Za-z0-9_.-]/g, '_');

function spooledLine(uploadId: string): string {
  const env = buildEvent(
    {
      type: 'sensorlogger.recording.uploaded',
      key: ['s', uploadId],
      data: { studyId: 's', uploadId },
    },
    { platform: 'sensorlogger', namespace: 'default', requestId: uploadId, receivedAt: new Date() },
    'ab',
    { method: 'POST', path: '/sensorlogger/default', headers: {}, bodySize: 0, ip: '' },
  );
  return `${JSON.stringify([env])}\n`;
}

describe('spool journals of API replicas on other hosts (a shared data volume)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-adopt-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("takes over another host's journal only once its heartbeat has stayed the same for the whole wait", async () => {
    const line = spooledLine('b');
    await writeFile(join(dir, 'api-b-7.jsonl'), line);
    await writeFile(join(dir, 'api-b-7.alive'), '5\n');
    const watch: HeartbeatWatch = new Map();
    const first = await adoptOrphans(dir, watch, 0);
    assert.deepEqual(first.adopted, [], 'a heartbeat seen once says nothing yet');
    assert.deepEqual(
      first.foreign.map((f) => f.name),
      ['api-b-7.jsonl'],
    );
    await writeFile(join(dir, 'api-b-7.alive'), '6\n');
    assert.deepEqual(
      (await adoptOrphans(dir, watch, 0)).adopted,
      [],
      'a heartbeat that moved means its writer is alive',
    );
    assert.deepEqual(
      (await adoptOrphans(dir, undefined, 0)).adopted,
      [],
      'without a watch, other hosts are left alone',
    );
    const third = await adoptOrphans(dir, watch, 0);
    assert.deepEqual(third.adopted, [join(dir, `api-b-7.jsonl.adopted-${me}-${process.pid}`)]);
    assert.deepEqual(
      (await readdir(dir)).sort(),
      [`api-b-7.jsonl.adopted-${me}-${process.pid}`],
      "the dead writer's heartbeat is removed",
    );
    assert.equal(await readFile(third.adopted[0]!, 'utf8'), line);
  });

  it("adopts both journals left by earlier processes with this host and pid (a container's pid 1), overwriting neither", async () => {
    // why: a restarted container runs as the same pid again; its predecessor may have been killed
    // with its own journal and one it had adopted (under the same name this process claims) both undrained.
    const own = `${me}-${process.pid}.jsonl`;
    const earlier = `${own}.adopted-${me}-${process.pid}`;
    const a = spooledLine('spooled-by-the-last-run');
    const b = spooledLine('adopted-by-the-last-run');
    await writeFile(join(dir, own), a);
    await writeFile(join(dir, earlier), b);
    const { adopted } = await adoptOrphans(dir);
    const texts = await Promise.all([...new Set(adopted)].map((p) => readFile(p, 'utf8')));
    assert.deepEqual(texts.sort(), [a, b].sort(), 'each journal adopted once, with its own lines');
    assert.ok(!(await readdir(dir)).includes(own), 'the name this process writes is free');
  });

  it("lets a journal's writer notice that its journal was taken over, and start a new one", async () => {
    const path = join(dir, `${me}-${process.pid}.jsonl`);
    const journal = createSpoolJournal(path);
    await journal.append(Buffer.from('one\n'), 1024);
    assert.equal(await journal.reopenIfMoved(), false);
    await rename(path, `${path}.adopted-elsewhere-1`);
    assert.equal(await journal.reopenIfMoved(), true);
    await journal.append(Buffer.from('two\n'), 1024);
    assert.equal(await readFile(path, 'utf8'), 'two\n', 'the new line went to a new journal');
    assert.equal(
      await readFile(`${path}.adopted-elsewhere-1`, 'utf8'),
      'one\n',
      'not into the adopted one',
    );
    await journal.close();
  });

  it('drains, in a running gateway, the journal of a replica whose heartbeat stopped, and leaves one that beats', async () => {
    let out = '';
    let beating: NodeJS.Timeout | undefined;
    const t = await startGateway((data) => {
      out = join(data, 'rec.jsonl');
      return {
        archive: false,
        spool: { heartbeatMs: 100, orphanAfterMs: 1000 },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
    try {
      const spool = join(t.dataDir, 'spool');
      // why: the gateway creates its spool directory in the background after it starts; the replicas
      // simulated here create it themselves, as a replica on another host sharing the volume would.
      await mkdir(spool, { recursive: true });
      await writeFile(join(spool, 'gone-host-9.jsonl'), spooledLine('from-gone'));
      await writeFile(join(spool, 'gone-host-9.alive'), '41\n');
      await writeFile(join(spool, 'live-host-3.jsonl'), spooledLine('from-live'));
      let n = 0;
      beating = setInterval(() => {
        writeFile(join(spool, 'live-host-3.alive'), `${++n}\n`).catch(() => undefined);
      }, 50);
      await waitFor(
        "the gone replica's event delivered",
        () => readDeliveries(out).length === 1,
        20000,
      );
      assert.equal(
        (readDeliveries(out)[0]!.event['data'] as { uploadId: string }).uploadId,
        'from-gone',
      );
      assert.ok(
        (await readdir(spool)).includes('live-host-3.jsonl'),
        'the journal of a replica that beats is left alone',
      );
    } finally {
      clearInterval(beating);
      await t.close();
    }
  });
});
