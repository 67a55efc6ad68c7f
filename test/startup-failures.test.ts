import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import { testPrefix, recordingSink, REDIS_URL, startGateway, waitFor } from './helpers/gateway.js';
import { freePort } from './helpers/processes.js';
import { studyhookArgs } from './helpers/studyhook-cli.js';

/** Runs the CLI as a real process; resolves with its exit code and output, or fails if it is still running after `ms`. */
function run(args: string[], ms = 30000): Promise<{ code: number | null; out: string }> {
  const proc = spawn(process.execPath, [...studyhookArgs(), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (c) => {
    out += String(c);
  });
  proc.stderr.on('data', (c) => {
    out += String(c);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`still running after ${ms} ms (it hangs):\n${out}`));
    }, ms);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('start-up failures end the process, naming the cause and the fix', () => {
  let dir: string;
  let prefix: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-startup-'));
    prefix = testPrefix('startup');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function config(extra: Record<string, unknown>): Promise<string> {
    const file = join(dir, 'studyhook.yml');
    await writeFile(
      file,
      stringify({
        dataDir: dir,
        redis: { url: REDIS_URL, prefix },
        server: { host: '127.0.0.1' },
        ...extra,
      }),
    );
    return file;
  }

  it("exits 1 when a sink's setup throws, instead of running workers with no API", async () => {
    const sink = join(dir, 'broken-sink.mjs');
    await writeFile(
      sink,
      'export default { name: "broken", setup() { throw new Error("database password rejected"); }, deliver() {} };\n',
    );
    const { code, out } = await run([
      'start',
      '--config',
      await config({
        server: { port: await freePort(), host: '127.0.0.1' },
        sinks: [{ name: 'db', module: sink }],
      }),
    ]);
    assert.equal(code, 1);
    assert.match(out, /SH_SINK_SETUP: Sink 'db' failed to set up: database password rejected/);
  });

  it('exits 1 when the port is taken, naming the port and the setting to change', async () => {
    const busy = createServer();
    const port = await new Promise<number>((r) =>
      busy.listen(0, '127.0.0.1', () => r((busy.address() as { port: number }).port)),
    );
    try {
      const { code, out } = await run([
        'start',
        '--config',
        await config({ server: { port, host: '127.0.0.1' } }),
      ]);
      assert.equal(code, 1);
      assert.match(
        out,
        new RegExp(`SH_PORT_IN_USE: Port ${port} on 127.0.0.1 is in use .*server\\.port`),
      );
    } finally {
      busy.close();
    }
  });

  it('replay exits 1 at once when Redis cannot be reached', async () => {
    const file = await config({ redis: { url: `redis://127.0.0.1:${await freePort()}` } });
    const { code, out } = await run(['replay', '--config', file], 20000);
    assert.equal(code, 1);
    assert.match(out, /SH_REDIS_UNREACHABLE/);
  });
});

describe('delivery failures in the log', () => {
  it('show the error message itself', async () => {
    const t = await startGateway((d) => ({
      archive: false,
      sinks: [
        {
          name: 'rec',
          module: recordingSink,
          options: { file: join(d, 'r.jsonl'), alwaysFail: true },
          attempts: 1,
        },
      ],
    }));
    try {
      await request(t.gateway.app!)
        .post('/sensorlogger/x')
        .send({ studyId: 's', uploadId: 'u', secretCode: 'c' })
        .expect(200);
      const line = await waitFor('the failure logged', () =>
        t.logs.find((l) => l.includes('delivery failed')),
      );
      const entry = JSON.parse(line) as { err: { message: string } };
      assert.match(entry.err.message, /failing attempt 1 of /);
    } finally {
      await t.close();
    }
  });
});
