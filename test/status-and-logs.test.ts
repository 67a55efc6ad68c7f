import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sample } from '../src/commands/sample.js';
import { status } from '../src/commands/status.js';
import { createActivitySummary } from '../src/log/activity-summary.js';
import { createLogger } from '../src/log/logger.js';
import { recordingSink, startGateway, type TestGateway, waitFor } from './helpers/gateway.js';
import { runCli } from './helpers/run-cli.js';

type Line = {
  level: number;
  msg: string;
  activity?: Record<
    string,
    { received: number; delivered: number; failed: number; deadLetters: number }
  >;
  platform?: string;
  namespace?: string;
  eventId?: string;
};
const parsed = (t: TestGateway): Line[] =>
  t.logs.flatMap((l) =>
    l
      .split('\n')
      .filter(Boolean)
      .map((x) => JSON.parse(x) as Line),
  );

describe('status, delivery lines and the activity summary', function () {
  this.timeout(60000);
  let t: TestGateway;
  let base: string;
  let file: string;
  before(async () => {
    t = await startGateway((dir) => ({
      log: { summaryIntervalMs: 50 },
      platforms: { sensorlogger: { namespaces: { pilot: {} } } },
      sinks: [
        {
          name: 'refuser',
          module: recordingSink,
          attempts: 1,
          options: { file: join(dir, 'never.jsonl'), alwaysFail: true, permanent: true },
        },
      ],
    }));
    base = `http://127.0.0.1:${await t.gateway.listen(0, '127.0.0.1')}`;
    file = join(t.dataDir, 'studyhook.yml');
  });
  after(() => t.close());

  it("logs a failed delivery at warn with the sink's own error message, a delivery at debug, and sums up the activity per platform", async () => {
    const r = await runCli(sample, ['sensorlogger', '--config', file, '--url', base]);
    assert.equal(r.code, 0, r.out + r.err);
    const failure = await waitFor('the failure line', () =>
      parsed(t).find((l) => l.level === 40 && l.msg.startsWith('delivery failed')),
    );
    assert.equal(failure.platform, 'sensorlogger');
    assert.equal(failure.namespace, 'pilot');
    assert.match(
      failure.msg,
      new RegExp(
        `^delivery failed \\(dead letter: studyhook replay re-delivers it\\): refused ${failure.eventId}$`,
      ),
    );
    const delivered = await waitFor('the archive delivery line', () =>
      parsed(t).find((l) => l.level === 20 && l.msg === 'delivered'),
    );
    assert.equal(delivered.platform, 'sensorlogger');
    // the summary lines of the short interval, added up: one received, one delivered (archive), one failed attempt that is a dead letter
    const totals = await waitFor('summaries adding up to the request', () => {
      const sum = { received: 0, delivered: 0, failed: 0, deadLetters: 0 };
      for (const l of parsed(t))
        for (const k of Object.keys(sum) as (keyof typeof sum)[])
          sum[k] += l.activity?.['sensorlogger']?.[k] ?? 0;
      return sum.received === 1 && sum.delivered === 1 && sum.deadLetters === 1 && sum;
    });
    assert.deepEqual(totals, { received: 1, delivered: 1, failed: 1, deadLetters: 1 });
  });

  it('writes no summary line for an interval without activity', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(c, _e, cb) {
          lines.push(String(c));
          cb();
        },
      }),
    });
    const summary = createActivitySummary(logger, 3_600_000);
    try {
      assert.equal(summary.flush(), false);
      summary.count('prolific', 'received');
      assert.equal(summary.flush(), true);
      assert.equal(summary.flush(), false);
    } finally {
      summary.stop();
    }
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /"activity":\{"prolific":\{"received":1,"delivered":0,"failed":0,"deadLetters":0\}\}/,
    );
  });

  it('status reports the dead letter, the quarantined payload and this live process, and exits 1', async () => {
    const bad = await fetch(`${base}/sensorlogger/pilot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"messageId": 5}',
    });
    assert.equal(bad.status, 422, await bad.text());
    const r = await waitFor('a dead letter and a quarantined payload', async () => {
      const out = await runCli(status, ['--json', '--config', file]);
      const s = JSON.parse(out.out) as {
        sinks: { sink: string; deadLetters: number }[];
        quarantine: { platform: string; namespace: string; count: number }[];
        processes: { role: string; pid: number }[];
        attention: string[];
      };
      return (
        s.sinks.find((x) => x.sink === 'refuser')?.deadLetters === 1 &&
        s.quarantine.length > 0 && { ...out, s }
      );
    });
    assert.equal(r.code, 1);
    assert.deepEqual(r.s.quarantine, [{ platform: 'sensorlogger', namespace: 'pilot', count: 1 }]);
    assert.deepEqual(
      r.s.processes.map((p) => [p.role, p.pid]),
      [['start', process.pid]],
    );
    assert.ok(
      r.s.attention.some((a) => a.includes("sink 'refuser' has 1 dead letter(s)")),
      r.s.attention.join('\n'),
    );
    assert.ok(
      r.s.attention.some((a) => a.includes('1 quarantined payload(s) in sensorlogger/pilot')),
      r.s.attention.join('\n'),
    );
    const human = await runCli(status, ['--config', file]);
    assert.match(human.out, /NEEDS ATTENTION/);
    assert.match(human.out, /refuser +0 +0 +0 +1/);
  });
});

describe('status of the spool', () => {
  it("counts every journal waiting in the spool: this host's, and ones adopted under another host's name", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-status-spool-'));
    try {
      const file = join(dir, 'c.yml');
      await writeFile(file, `dataDir: ${dir}\nredis: { url: 'redis://127.0.0.1:1' }\n`);
      await mkdir(join(dir, 'spool'));
      await writeFile(join(dir, 'spool', 'api-a-7.jsonl'), 'x'.repeat(10));
      await writeFile(join(dir, 'spool', 'api-b-8.jsonl.adopted-api-a-7'), 'x'.repeat(20));
      await writeFile(join(dir, 'spool', 'api-c-9.jsonl.adopted-11'), 'x'.repeat(40));
      await writeFile(join(dir, 'spool', 'rejected.jsonl'), 'x'.repeat(80));
      const out = await runCli(status, ['--json', '--config', file]);
      assert.equal((JSON.parse(out.out) as { spoolBytes: number }).spoolBytes, 70, out.err);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
