import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LEDGER_FILE } from './config.js';
import type { Action } from './families/index.js';
import { Harness } from './harness.js';
import { runActions } from './run.js';

const valid: Action[] = [
  { family: 'valid', platform: 'sensorlogger', route: '', namespace: 'locked' },
];

// The suite's own checks must be able to fail: each test breaks one invariant by hand (on a healthy
// gateway) and expects the run to be refused with that invariant in the message.
describe('adversarial suite checks (each fails the run when its invariant breaks)', function () {
  const h = new Harness();
  before(async function () {
    this.timeout(60000);
    await h.ensure();
  });
  after(async function () {
    this.timeout(120000);
    await h.shutdown();
  });

  it('passes a run of valid requests on a healthy gateway', async function () {
    this.timeout(30000);
    await runActions(h, valid);
  });

  it('fails a run when a file appears outside the data dir', async function () {
    this.timeout(30000);
    const stray = join((await h.ensure()).cwd, 'stray.txt');
    writeFileSync(stray, 'x');
    try {
      await assert.rejects(runActions(h, valid), /file written outside the data dir: .*stray\.txt/);
    } finally {
      rmSync(stray, { force: true });
    }
  });

  it('fails a run when a .part file is left in the blob store', async function () {
    this.timeout(30000);
    const dir = join((await h.ensure()).dataDir, 'blobs', 'ab');
    mkdirSync(dir, { recursive: true });
    const part = join(dir, `${randomUUID()}.part`);
    writeFileSync(part, 'partial');
    try {
      await assert.rejects(runActions(h, valid), /unfinished blob left: .*\.part \(7 B\)/);
    } finally {
      rmSync(part, { force: true });
    }
  });

  it('fails a run when a sink received an event twice', async function () {
    this.timeout(30000);
    await runActions(h, valid);
    const ledger = join(h.gw!.outDir, LEDGER_FILE);
    const last = readFileSync(ledger, 'utf8').trim().split('\n').pop()!;
    appendFileSync(ledger, `${last}\n`);
    await assert.rejects(runActions(h, valid), /delivered more than once to ledger/);
  });

  it('fails a run when the gateway process died after the previous run', async function () {
    this.timeout(60000);
    await runActions(h, valid);
    h.gw!.proc.kill('SIGKILL');
    await new Promise((r) => h.gw!.proc.once('exit', r));
    await assert.rejects(
      runActions(h, valid),
      /the gateway process exited \(\{"code":null,"signal":"SIGKILL"\}\) after run \d+ had passed its checks/,
    );
    await runActions(h, valid); // and the next run gets a fresh gateway
  });
});
