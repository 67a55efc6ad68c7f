import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { study } from '../src/commands/study.js';
import type { ParticipantRow } from '../src/study/types.js';
import { waitArchived } from './fixtures/export/drive-study.js';
import { driveStudy, EXPECTED, studyConfig } from './fixtures/study/drive.js';
import { startFakeProlific, type FakeProlific } from './helpers/fake-prolific.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/run-cli.js';

async function archived(
  dir: string,
  platform: string,
  ns: string,
): Promise<Record<string, unknown>[]> {
  const d = join(dir, 'events', platform, ns);
  const out: Record<string, unknown>[] = [];
  for (const f of (await readdir(d).catch(() => [])).sort())
    for (const l of (await readFile(join(d, f), 'utf8')).split('\n'))
      if (l) out.push(JSON.parse(l) as Record<string, unknown>);
  return out;
}

describe('studyhook study: a Prolific + Labvanced study driven through HTTP', function () {
  this.timeout(60000);
  let t: TestGateway;
  let fake: FakeProlific;
  let events = 0;
  const cfg = () => join(t.dataDir, 'studyhook.yml');
  const cli = (...args: string[]) => runCli(study, [...args, '--config', cfg()]);
  const approvals = () =>
    fake.requests.filter((r) => r.path === '/api/v1/submissions/bulk-approve/');

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

  it('classifies every participant across platforms and says what each one lacks', async () => {
    const r = await cli('participants', 'stroop', '--format', 'json');
    assert.equal(r.code, 0, r.err);
    const rows = JSON.parse(r.out) as ParticipantRow[];
    assert.deepEqual(
      Object.fromEntries(rows.map((p) => [p.participant, p.classification])),
      EXPECTED,
    );
    const by = (id: string) => rows.find((p) => p.participant === id)!;
    assert.deepEqual(by('PID-GAP').missing, ['trials 2 of 3 (task Stroop missing trial 2)']);
    assert.deepEqual(by('PID-FAILED').missing, [
      'Labvanced session 204 failed: WebGL not supported',
      'trials 1 of 3',
      'files 0 of 1',
    ]);
    assert.deepEqual(by('PID-NODATA').missing, ['no Labvanced session']);
    assert.deepEqual(by('PID-COMPLETE-1').missing, []);
    assert.deepEqual(by('PID-COMPLETE-1').labvanced, {
      sessions: 1,
      session: '201',
      status: 'finished',
      trials: 3,
      files: 1,
      error: null,
    });
    assert.equal(by('PID-COMPLETE-1').prolific?.status, 'AWAITING REVIEW');
    assert.equal(
      by('PID-NOSUB').labvanced?.session,
      '207',
      'linked through var_data.crowdsourcinSubjId, the default second field',
    );
  });

  it('writes the participants as CSV, and filters by classification', async () => {
    const r = await cli('participants', 'stroop', '--format', 'csv', '--only', 'incomplete');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(
      lines[0],
      'participant,classification,missing,prolific_submission,prolific_status,prolific_status_at,labvanced_sessions,labvanced_session,labvanced_status,labvanced_trials,labvanced_files,labvanced_error',
    );
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      ['PID-FAILED', 'PID-GAP'],
    );
    assert.match(
      lines[1]!,
      /^PID-FAILED,incomplete,Labvanced session 204 failed: WebGL not supported; trials 1 of 3; files 0 of 1,SUB-PID-FAILED,AWAITING REVIEW,2026-05-01T08:01:00.000Z,1,204,failed,1,0,WebGL not supported$/,
    );
  });

  it('prints counts per platform and status, and participants per classification', async () => {
    const r = await cli('status', 'stroop');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^study stroop \(prolific\/lab, labvanced\/stroop\)$/m);
    assert.match(r.out, /prolific +AWAITING REVIEW 5, RETURNED 1$/m);
    assert.match(r.out, /labvanced +finished 4, failed 1, started 1$/m);
    assert.match(
      r.out,
      /participants +7: complete 2, incomplete 2, no data 1, data without submission 1, returned\/timed out 1$/m,
    );
    assert.match(r.out, /to approve +2 submission\(s\)/);
    const json = JSON.parse((await cli('status', 'stroop', '--format', 'json')).out) as {
      events: Record<string, number>;
      lastEvent: Record<string, string>;
    };
    assert.equal(json.events['prolific']! + json.events['labvanced']!, events);
    assert.ok(json.lastEvent['labvanced']);
  });

  it('answers an unknown study with one line naming the configured studies and the namespaces there', async () => {
    const r = await cli('status', 'nope');
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.match(
      r.err,
      /unknown study 'nope': no studies\.nope in the config \(studies there: stroop\) and no namespace 'nope' in the archive .* \(namespaces there: lab, stroop\)/,
    );
  });

  it('reads a namespace that is not a configured study as that namespace on every platform', async () => {
    const r = await cli('status', 'stroop-unconfigured');
    assert.equal(r.code, 1);
    const ok = await cli('participants', 'lab', '--format', 'json');
    assert.equal(ok.code, 0, ok.err);
    assert.deepEqual((JSON.parse(ok.out) as ParticipantRow[]).map((p) => p.classification).sort(), [
      'no data',
      'no data',
      'no data',
      'no data',
      'no data',
      'returned/timed out',
    ]);
  });

  it('skips corrupt archive lines, names each by file:line, and still classifies everyone', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'studyhook-study-'));
    try {
      await cp(join(t.dataDir, 'events'), copy, { recursive: true });
      const day = (await readdir(join(copy, 'labvanced', 'stroop')))[0]!;
      const file = join(copy, 'labvanced', 'stroop', day);
      const lines = (await readFile(file, 'utf8')).split('\n').length;
      // A trial of PID-GAP archived twice (at-least-once) counts once.
      const copyOfTrial = (await readFile(file, 'utf8'))
        .split('\n')
        .find((l) => l.includes('"labvanced.trial.recorded"') && l.includes('"expSessionNr":203'))!;
      await appendFile(file, `${copyOfTrial}\n{"specversion":"1.0","id":"torn\n`);
      const r = await cli('participants', 'stroop', '--format', 'json', '--archive-dir', copy);
      assert.equal(r.code, 0, r.err);
      const rows = JSON.parse(r.out) as ParticipantRow[];
      assert.equal(rows.length, Object.keys(EXPECTED).length);
      assert.deepEqual(rows.find((p) => p.participant === 'PID-GAP')!.missing, [
        'trials 2 of 3 (task Stroop missing trial 2)',
      ]);
      assert.match(
        r.err,
        new RegExp(`skipped ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${lines + 1}: not JSON`),
      );
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('refuses to approve for a study without Prolific, and a bad --format, in one line', async () => {
    const file = join(t.dataDir, 'labvanced-only.yml');
    await writeFile(
      file,
      stringify({ dataDir: t.dataDir, studies: { lv: { namespaces: { labvanced: 'stroop' } } } }),
    );
    const r = await runCli(study, ['approve', 'lv', '--config', file]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      "studyhook study: study 'lv' has no Prolific namespace: there is nothing to approve\n",
    );
    const rows = JSON.parse(
      (await runCli(study, ['participants', 'lv', '--config', file, '--format', 'json'])).out,
    ) as ParticipantRow[];
    assert.deepEqual(
      rows.map((p) => p.classification).sort(),
      ['complete', 'complete', 'complete', 'complete', 'incomplete', 'incomplete'],
      'without Prolific: complete or incomplete',
    );
    const bad = await cli('status', 'stroop', '--format', 'csv');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--format must be text, json for study status, not 'csv'/);
  });

  it('approve prints the plan and changes nothing without --yes', async () => {
    const r = await cli('approve', 'stroop');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /plan \(dry run, nothing is changed\): 2 submission\(s\)/);
    assert.match(
      r.out,
      /approve SUB-PID-COMPLETE-1 {2}participant PID-COMPLETE-1: Labvanced session 201 finished with 3 trials, 1 file\(s\)/,
    );
    assert.match(r.out, /keep {4}SUB-PID-GAP {2}participant PID-GAP: incomplete: trials 2 of 3/);
    assert.doesNotMatch(r.out, /SUB-PID-RETURNED|SUB-PID-NOSUB/);
    assert.equal(approvals().length, 0);
  });

  it('approve --yes stops when Prolific fails midway, says what was done, and a rerun approves the rest once', async () => {
    // The archive as it is before any approval: read by the second run, it lacks the first run's record.
    const before = await mkdtemp(join(tmpdir(), 'studyhook-study-'));
    await cp(join(t.dataDir, 'events'), before, { recursive: true });
    // Each submission is read (GET) right before its batch: GET 1, approve 1, GET 2 pass; approve 2 fails.
    fake.failAfter(3);
    const first = await cli('approve', 'stroop', '--yes', '--batch-size', '1');
    fake.failAfter(undefined);
    assert.equal(first.code, 1, first.out);
    assert.match(
      first.out,
      /stopped: approved 1 of 2 submission\(s\) before this failed: Prolific API POST \/api\/v1\/submissions\/bulk-approve\/ answered 500/,
    );
    // The second batch was sent and answered 500.
    assert.deepEqual(
      approvals().map((a) => a.body),
      [{ submission_ids: ['SUB-PID-COMPLETE-1'] }, { submission_ids: ['SUB-PID-COMPLETE-2'] }],
    );
    assert.equal(fake.submissions.get('SUB-PID-COMPLETE-2')!['status'], 'AWAITING REVIEW');
    // As if the archive sink had not written the record yet: the record's job in its queue keeps the first approval from being sent again.
    const second = await cli(
      'approve',
      'stroop',
      '--yes',
      '--batch-size',
      '1',
      '--archive-dir',
      before,
    );
    await rm(before, { recursive: true, force: true });
    assert.equal(second.code, 0, second.out);
    assert.deepEqual(
      approvals()
        .slice(2)
        .map((a) => a.body),
      [{ submission_ids: ['SUB-PID-COMPLETE-2'] }],
    );
    await waitArchived(t, events + 2);
    const records = (await archived(t.dataDir, 'prolific', 'lab')).filter(
      (e) => e['type'] === 'studyhook.submission.approved',
    );
    assert.deepEqual(records.map((e) => e['subject']).sort(), [
      'SUB-PID-COMPLETE-1',
      'SUB-PID-COMPLETE-2',
    ]);
    assert.equal(records[0]!['participantid'], String(records[0]!['subject']).replace('SUB-', ''));
    const third = await cli('approve', 'stroop', '--yes');
    assert.equal(third.code, 0);
    assert.match(third.out, /approving: 0 submission\(s\)/);
    assert.match(third.out, /already approved by studyhook: 2/);
    assert.equal(approvals().length, 3, 'nothing sent again');
    assert.deepEqual(
      [...fake.submissions.values()]
        .filter((x) => x['status'] !== 'AWAITING REVIEW')
        .map((x) => `${String(x['id'])} ${String(x['status'])}`)
        .sort(),
      ['SUB-PID-COMPLETE-1 APPROVED', 'SUB-PID-COMPLETE-2 APPROVED'],
      'only the complete ones approved, nobody rejected',
    );
    assert.equal(fake.requests.filter((x) => x.path.includes('/transition/')).length, 0);
  });
});
