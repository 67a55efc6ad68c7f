// `study approve --yes` against what Prolific says now, and against a namespace shared by two
// Prolific studies: the real gateway and archive, the fake Prolific API as a real HTTP server.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { study } from '../src/commands/study.js';
import { waitArchived } from './fixtures/export/drive-study.js';
import { driveStudy, EXPECTED, prolificEvent, studyConfig } from './fixtures/study/drive.js';
import { startFakeProlific, type FakeProlific } from './helpers/fake-prolific.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/run-cli.js';

describe('studyhook study approve: guards before a submission is sent', function () {
  this.timeout(60000);
  let t: TestGateway;
  let fake: FakeProlific;
  let events = 0;
  const cli = (...args: string[]) =>
    runCli(study, [...args, '--config', `${t.dataDir}/studyhook.yml`]);
  const sent = () =>
    fake.requests
      .filter((r) => r.path === '/api/v1/submissions/bulk-approve/')
      .flatMap((r) => (r.body as { submission_ids: string[] }).submission_ids);
  const status = (id: string) => fake.submissions.get(id)!['status'];

  before(async () => {
    fake = await startFakeProlific();
    t = await startGateway(studyConfig(fake.baseUrl, fake.token));
    events = await driveStudy(t);
    for (const pid of Object.keys(EXPECTED))
      fake.submissions.set(`SUB-${pid}`, {
        id: `SUB-${pid}`,
        participant: pid,
        study_id: 'STUDY-1',
        status: 'AWAITING REVIEW',
      });
    // PID-COMPLETE-2 also took another Prolific study of the workspace (same namespace, the
    // subscription covers the workspace), an hour later; the webhook carries no study id, as
    // documented. Its data is in another Labvanced namespace, not in this study's.
    await prolificEvent(
      t,
      'evt-other-study',
      {
        event_type: 'submission.status.change',
        resource_id: 'SUB-OTHER-STUDY',
        participant_id: 'PID-COMPLETE-2',
        status: 'AWAITING REVIEW',
      },
      Date.parse('2026-05-01T09:00:00Z'),
    );
    events += 1;
    fake.submissions.set('SUB-OTHER-STUDY', {
      id: 'SUB-OTHER-STUDY',
      participant: 'PID-COMPLETE-2',
      study_id: 'STUDY-2',
      status: 'AWAITING REVIEW',
    });
    await waitArchived(t, events);
  });
  after(async () => {
    await t?.close();
    await fake?.close();
  });

  it('sends no submission that Prolific no longer has AWAITING REVIEW (its webhook not archived)', async () => {
    // The participant returned; the RETURNED webhook is lost or still being retried by Prolific.
    fake.submissions.get('SUB-PID-COMPLETE-1')!['status'] = 'RETURNED';
    const r = await cli('approve', 'stroop', '--yes');
    assert.ok(!sent().includes('SUB-PID-COMPLETE-1'), r.out);
    assert.equal(status('SUB-PID-COMPLETE-1'), 'RETURNED');
    assert.match(r.out, /not sent: SUB-PID-COMPLETE-1 .*Prolific says RETURNED/);
    // Once Prolific has it AWAITING REVIEW again, a rerun approves it: nothing was recorded for it.
    fake.submissions.get('SUB-PID-COMPLETE-1')!['status'] = 'AWAITING REVIEW';
    const again = await cli('approve', 'stroop', '--yes');
    assert.equal(again.code, 0, again.out);
    assert.deepEqual(
      sent().filter((id) => id === 'SUB-PID-COMPLETE-1'),
      ['SUB-PID-COMPLETE-1'],
      'sent once, by the rerun',
    );
    assert.equal(status('SUB-PID-COMPLETE-1'), 'APPROVED');
  });

  it("leaves a participant with submissions to two Prolific studies for a person, not the latest approved on this study's data", async () => {
    const r = await cli('approve', 'stroop');
    assert.match(
      r.out,
      /keep {4}SUB-OTHER-STUDY {2}participant PID-COMPLETE-2: complete: 2 Prolific submissions/,
    );
    await cli('approve', 'stroop', '--yes');
    assert.ok(!sent().includes('SUB-OTHER-STUDY'), sent().join(', '));
    assert.equal(status('SUB-OTHER-STUDY'), 'AWAITING REVIEW');
  });
});

describe('studyhook study approve: a bulk approval Prolific accepted but did not carry out', function () {
  this.timeout(60000);
  let t: TestGateway;
  let fake: FakeProlific;
  let events = 0;
  const cli = (...args: string[]) =>
    runCli(study, [...args, '--config', `${t.dataDir}/studyhook.yml`]);
  const sent = () =>
    fake.requests
      .filter((r) => r.path === '/api/v1/submissions/bulk-approve/')
      .map((r) => (r.body as { submission_ids: string[] }).submission_ids);

  before(async () => {
    fake = await startFakeProlific();
    t = await startGateway(studyConfig(fake.baseUrl, fake.token));
    events = await driveStudy(t);
    await waitArchived(t, events);
    for (const pid of Object.keys(EXPECTED))
      fake.submissions.set(`SUB-${pid}`, {
        id: `SUB-${pid}`,
        participant: pid,
        study_id: 'STUDY-1',
        status: 'AWAITING REVIEW',
      });
  });
  after(async () => {
    await t?.close();
    await fake?.close();
  });

  /** Moves the archived approval records `minutes` into the past, as if that long had passed. */
  async function age(minutes: number): Promise<void> {
    const dir = join(t.dataDir, 'events', 'prolific', 'lab');
    for (const f of await readdir(dir)) {
      const lines = (await readFile(join(dir, f), 'utf8')).split('\n').map((l) => {
        if (!l.includes('"studyhook.submission.approved"')) return l;
        const e = JSON.parse(l) as { time: string };
        e.time = new Date(Date.parse(e.time) - minutes * 60_000).toISOString();
        return JSON.stringify(e);
      });
      await writeFile(join(dir, f), lines.join('\n'));
    }
  }

  it('names a submission Prolific does not know (404) as not sent, and approves the others', async () => {
    const gone = fake.submissions.get('SUB-PID-COMPLETE-2')!;
    fake.submissions.delete('SUB-PID-COMPLETE-2');
    const r = await cli('approve', 'stroop', '--yes');
    fake.submissions.set('SUB-PID-COMPLETE-2', gone);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(sent(), [['SUB-PID-COMPLETE-1']]);
    assert.match(r.out, /not sent: SUB-PID-COMPLETE-2 .*Prolific answered 404/);
    await waitArchived(t, events + 1);
  });

  it('reads it from Prolific again on a later run and sends it again while Prolific has it AWAITING REVIEW', async () => {
    fake.bulkSkip.add('SUB-PID-COMPLETE-2');
    const first = await cli('approve', 'stroop', '--yes');
    assert.equal(first.code, 0, first.out);
    assert.deepEqual(sent(), [['SUB-PID-COMPLETE-1'], ['SUB-PID-COMPLETE-2']]);
    assert.equal(fake.submissions.get('SUB-PID-COMPLETE-2')!['status'], 'AWAITING REVIEW');
    await waitArchived(t, events + 2);
    // Right after: the approval may still be in progress on Prolific, so nothing is sent again.
    const soon = await cli('approve', 'stroop', '--yes');
    assert.equal(soon.code, 0, soon.out);
    assert.equal(sent().length, 2, soon.out);
    await age(20);
    fake.bulkSkip.clear();
    const again = await cli('approve', 'stroop', '--yes');
    assert.equal(again.code, 0, again.out);
    assert.deepEqual(sent(), [
      ['SUB-PID-COMPLETE-1'],
      ['SUB-PID-COMPLETE-2'],
      ['SUB-PID-COMPLETE-2'],
    ]);
    assert.equal(fake.submissions.get('SUB-PID-COMPLETE-2')!['status'], 'APPROVED');
    assert.doesNotMatch(again.out, /not sent/, 'the one Prolific approved is no news');
    const plan = await cli('approve', 'stroop');
    assert.match(plan.out, /already approved by studyhook: 2 .*2 recorded over 15 min ago/);
  });
});
