import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import prolificAdapter from '../adapters/prolific/index.js';
import { openQueue } from '../src/queue/redis.js';
import { waitArchived } from './fixtures/export/drive-study.js';
import { prolificEvent, studyConfig } from './fixtures/study/drive.js';
import { startFakeProlific, type FakeProlific } from './helpers/fake-prolific.js';
import { REDIS_URL, startGateway, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/run-cli.js';

const WS = 'ws-1';
const change = (sub: string, pid: string, status: string) => ({
  resource_id: sub,
  event_type: 'submission.status.change',
  participant_id: pid,
  status,
});

async function archivedProlific(dir: string): Promise<Record<string, unknown>[]> {
  const d = join(dir, 'events', 'prolific', 'lab');
  const out: Record<string, unknown>[] = [];
  for (const f of (await readdir(d)).sort())
    for (const l of (await readFile(join(d, f), 'utf8')).split('\n'))
      if (l) out.push(JSON.parse(l) as Record<string, unknown>);
  return out;
}

describe('studyhook prolific backfill (fake Prolific API over real HTTP)', function () {
  this.timeout(60000);
  let t: TestGateway;
  let fake: FakeProlific;
  let live = 0;
  const cli = (...args: string[]) =>
    runCli(prolificAdapter.commands![0]!, [
      'backfill',
      '--workspace',
      WS,
      '--namespace',
      'lab',
      '--config',
      join(t.dataDir, 'studyhook.yml'),
      ...args,
    ]);
  const counts = async () => {
    const q = openQueue('archive', REDIS_URL, t.prefix);
    try {
      const c = await q.getJobCounts('completed', 'waiting', 'active', 'delayed', 'failed');
      return Object.values(c).reduce((a, b) => a + b, 0);
    } finally {
      await q.close();
    }
  };

  before(async () => {
    fake = await startFakeProlific();
    t = await startGateway(studyConfig(fake.baseUrl, fake.token));
    // Received live: d-1 under its own id, and d-3 under another X-Event-ID than the log's (whether they match is not documented).
    await prolificEvent(t, 'd-1', change('SUB-A', 'PID-A', 'ACTIVE'));
    await prolificEvent(t, 'live-other-id', change('SUB-A', 'PID-A', 'AWAITING REVIEW'));
    live = 2;
    await waitArchived(t, live);
    const sub = (id: string, ns: string, eventType = 'submission.status.change') =>
      fake.subscriptions.set(id, {
        id,
        event_type: eventType,
        target_url: `https://hooks.example.org/prolific/${ns}`,
        workspace_id: WS,
        is_enabled: true,
        hookSecret: 'x',
      });
    sub('S-1', 'lab');
    sub('S-2', 'lab', 'study.status.change');
    sub('S-OTHER', 'elsewhere');
    const item = (id: string, status: string, payload: Record<string, unknown>, at: string) => ({
      id,
      datetime_created: at,
      datetime_updated: at,
      event_type: payload['event_type'],
      resource_id: payload['resource_id'],
      status,
      target_url: 'https://hooks.example.org/prolific/lab',
      payload,
    });
    fake.deliveries.set('S-1', [
      item('d-1', 'SUCCEEDED', change('SUB-A', 'PID-A', 'ACTIVE'), '2026-05-01T08:00:00Z'),
      item('d-2', 'FAILED', change('SUB-B', 'PID-B', 'AWAITING REVIEW'), '2026-05-01T08:01:00Z'),
      item('d-3', 'SUCCEEDED', change('SUB-A', 'PID-A', 'AWAITING REVIEW'), '2026-05-01T08:02:00Z'),
      // Older than --since in the last test.
      item('d-0', 'FAILED', change('SUB-Z', 'PID-Z', 'RETURNED'), '2026-04-01T08:00:00Z'),
    ]);
    fake.deliveries.set('S-2', [
      item(
        'd-4',
        'PENDING',
        {
          resource_id: 'STUDY-1',
          event_type: 'study.status.change',
          status: 'AWAITING REVIEW',
          metadata: {},
        },
        '2026-05-01T09:00:00Z',
      ),
    ]);
    fake.deliveries.set('S-OTHER', [
      item('d-9', 'FAILED', change('SUB-Q', 'PID-Q', 'ACTIVE'), '2026-05-01T08:00:00Z'),
    ]);
    // The study's submissions list: SUB-C's status was never delivered at all.
    fake.submissions.set('SUB-A', {
      id: 'SUB-A',
      participant: 'PID-A',
      study_id: 'STUDY-1',
      status: 'AWAITING REVIEW',
      started_at: '2026-05-01T07:59:00Z',
    });
    fake.submissions.set('SUB-B', {
      id: 'SUB-B',
      participant: 'PID-B',
      study_id: 'STUDY-1',
      status: 'AWAITING REVIEW',
      started_at: '2026-05-01T08:00:30Z',
    });
    fake.submissions.set('SUB-C', {
      id: 'SUB-C',
      participant: 'PID-C',
      study_id: 'STUDY-1',
      status: 'RETURNED',
      started_at: '2026-05-01T08:03:00Z',
    });
  });
  after(async () => {
    await t?.close();
    await fake?.close();
  });

  it('--dry-run reports what the log and the submissions list hold that the archive lacks, and publishes nothing', async () => {
    const r = await cli('--dry-run', '--since', '2026-04-15');
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(
      r.out,
      /subscription S-1 \(submission\.status\.change\): 3 deliveries in Prolific's log \(SUCCEEDED 2, FAILED 1\), 1 never received/,
    );
    assert.match(
      r.out,
      /subscription S-2 \(study\.status\.change\): 1 deliveries in Prolific's log \(PENDING 1\), 1 never received/,
    );
    assert.match(r.out, /study STUDY-1: 3 submissions on Prolific, 1 with a status never received/);
    assert.match(
      r.out,
      /dry run: 3 event\(s\) would be published \(2 from the delivery log, 1 from the submissions lists\)/,
    );
    assert.doesNotMatch(r.out, /S-OTHER/);
    assert.equal(await counts(), live);
  });

  it('publishes each missing event through the pipeline once, marked backfilled, with the id a live delivery gets', async () => {
    const r = await cli('--since', '2026-04-15');
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /published 3 backfilled event\(s\)/);
    // Right after it returns, the jobs are in Redis.
    assert.equal(await counts(), live + 3);
    await waitArchived(t, live + 3);
    const events = await archivedProlific(t.dataDir);
    const back = events.filter((e) => e['backfilled']);
    assert.deepEqual(
      back
        .map((e) => [
          e['id'] === 'd-2' || e['id'] === 'd-4' ? e['id'] : 'derived',
          e['type'],
          e['subject'],
          e['backfilled'],
        ])
        .sort(),
      [
        ['d-2', 'prolific.submission.status.change', 'SUB-B', 'prolific-delivery-log'],
        ['d-4', 'prolific.study.status.change', 'STUDY-1', 'prolific-delivery-log'],
        ['derived', 'prolific.submission.status.change', 'SUB-C', 'prolific-submissions'],
      ],
    );
    const d2 = back.find((e) => e['id'] === 'd-2')!;
    assert.equal(d2['participantid'], 'PID-B');
    assert.equal(
      d2['time'],
      '2026-05-01T08:01:00.000Z',
      'X-Timestamp from the log entry, so statuses order as sent',
    );
    assert.deepEqual(d2['data'], change('SUB-B', 'PID-B', 'AWAITING REVIEW'));
    // A rerun finds nothing missing and publishes nothing.
    const again = await cli('--since', '2026-04-15');
    assert.equal(again.code, 0);
    assert.match(again.out, /published 0 backfilled event\(s\)/);
    assert.equal(await counts(), live + 3);
  });

  it('stops when the Prolific API fails midway, says what it published, and a rerun continues', async () => {
    // Without --since, d-0 (a month old) is missing too; the submissions list then fails.
    const calls = fake.requests.length;
    fake.failAfter(3); // list subscriptions, S-1's log, S-2's log; then STUDY-1's submissions fail
    const r = await cli();
    fake.failAfter(undefined);
    assert.equal(r.code, 1, r.out);
    assert.match(
      r.out,
      /stopped: Prolific API GET \/api\/v1\/submissions\/\?study=STUDY-1.* answered 500/,
    );
    assert.match(
      r.out,
      /published 1 of 1 missing event\(s\) found so far; run the same command again to continue/,
    );
    assert.ok(fake.requests.length > calls);
    // why: the rerun finds what is missing from the archive, so it runs once the worker has archived
    // what the first run published (before that, the rerun republishes it: a deduplicated no-op).
    await waitArchived(t, live + 4);
    const again = await cli();
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /published 0 backfilled event\(s\)/);
    await waitArchived(t, live + 4);
    assert.ok(
      (await archivedProlific(t.dataDir)).some(
        (e) => e['id'] === 'd-0' && e['backfilled'] === 'prolific-delivery-log',
      ),
    );
  });
});
