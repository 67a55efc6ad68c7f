import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLineWriter } from '../src/util/line-writer.js';

const child = new URL('./fixtures/archive/append-child.ts', import.meta.url).pathname;

interface Appender {
  proc: ChildProcess;
  acked: Set<string>;
  exited: Promise<number | null>;
}

/**
 * A process appending `count` lines (0: until killed or refused) of about `pad` bytes to `file`,
 * `inFlight` at a time; with `maxFileBytes`, its writes past that offset are cut short (RLIMIT_FSIZE).
 */
function appender(
  file: string,
  tag: string,
  o: { count: number; pad: number; inFlight: number; fsync: boolean; maxFileBytes?: number },
): Appender {
  const node = [process.execPath, '--import', 'tsx', child, file, tag];
  const args = [
    ...node,
    String(o.count),
    String(o.pad),
    o.fsync ? 'fsync' : 'no',
    String(o.inFlight),
  ];
  const [cmd, ...cmdArgs] = o.maxFileBytes
    ? ['prlimit', `--fsize=${o.maxFileBytes}`, ...args]
    : args;
  const proc = spawn(cmd!, cmdArgs, { stdio: ['ignore', 'pipe', 'ignore'] });
  const acked = new Set<string>();
  let rest = '';
  proc.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.startsWith('ack ')) acked.add(p.slice(4));
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, acked, exited };
}

async function untilAcked(a: Appender, n: number): Promise<void> {
  while (a.acked.size < n) {
    if (a.proc.exitCode !== null) throw new Error(`appender exited early (${a.proc.exitCode})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('several processes appending to one archive file', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-shared-file-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('leaves no blank, torn or glued line, with writers killed mid-write and a fragment left by a crash', async function () {
    this.timeout(60000);
    const file = join(dir, '2026-01-01.jsonl');
    // what a writer killed in the middle of its write leaves: a line without its end
    appendFileSync(file, '{"id":"crashed-0","pad":"xxxxxxxx');
    const steady = appender(file, 'steady', { count: 4000, pad: 1500, inFlight: 200, fsync: true });
    // A writer whose write is cut short for certain, and which then dies: the file size limit lets
    // its write take only the bytes below 8 MB past the file's size now. Megabyte lines, because the
    // steady writer alone does not reach that limit.
    const cut = appender(file, 'cut', {
      count: 0,
      pad: 1 << 20,
      inFlight: 8,
      fsync: false,
      maxFileBytes: statSync(file).size + (8 << 20),
    });
    assert.notEqual(await cut.exited, 0, 'the cut writer fails its appends and exits');
    // A writer SIGKILLed while appending megabyte lines (without fdatasync, it is mostly in write(2),
    // which the kernel then stops at a page boundary).
    const killed = appender(file, 'killed', { count: 0, pad: 1 << 20, inFlight: 8, fsync: false });
    await untilAcked(killed, 8);
    killed.proc.kill('SIGKILL');
    await killed.exited;
    const victims = [cut, killed];
    assert.equal(await steady.exited, 0);
    // a last writer, in this process, after everyone else: repairs a fragment a victim left at the end
    const w = createLineWriter();
    const tail = Array.from({ length: 10 }, (_, i) => `tail-${i}`);
    await Promise.all(tail.map((id) => w.append(file, JSON.stringify({ id }))));
    await w.close();

    const text = readFileSync(file, 'utf8');
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    const seen = new Map<string, number>();
    let repaired = 0;
    for (const [i, line] of lines.entries()) {
      assert.notEqual(line.trim(), '', `line ${i + 1} is blank`);
      let id: unknown;
      assert.doesNotThrow(
        () => {
          id = (JSON.parse(line) as { id: unknown }).id;
        },
        `line ${i + 1} does not parse: ${line.slice(0, 80)}…`,
      );
      assert.equal(typeof id, 'string');
      seen.set(id as string, (seen.get(id as string) ?? 0) + 1);
      if (line.startsWith(' ')) repaired++;
    }
    console.log(
      `      one file, four writers: ${lines.length} lines, ${repaired} after a repaired fragment`,
    );
    assert.ok(repaired >= 2, 'the crash fragment and the cut write were repaired');
    assert.equal(seen.has('crashed-0'), false);
    for (const [id, n] of seen) assert.equal(n, 1, `${id} written ${n} times`);
    const expected = new Set([
      ...Array.from({ length: 4000 }, (_, i) => `steady-${i}`),
      ...tail,
      ...victims.flatMap((v) => [...v.acked]),
    ]);
    for (const id of expected) assert.ok(seen.has(id), `${id} acknowledged but not in the file`);
    // the victims' lines that were written but never acknowledged (killed before their append resolved)
    const unacked = [...seen.keys()].filter((id) => !expected.has(id));
    assert.ok(
      unacked.every((id) => /^(cut|killed)-\d+$/.test(id)),
      unacked.join(', '),
    );
  });
});
