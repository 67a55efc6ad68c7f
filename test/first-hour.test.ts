import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testPrefix, REDIS_URL, waitFor } from './helpers/gateway.js';
import { freePort, stop } from './helpers/processes.js';
import { root, studyhookArgs } from './helpers/studyhook-cli.js';
import { keepingEnv, runMainCli } from './helpers/run-main.js';

const run = promisify(execFile);
const PLATFORMS = ['prolific', 'labvanced', 'sensorlogger', 'actigraph', 'mydatahelps'];

describe('the first hour: init, check, start, sample, status', function () {
  this.timeout(120000);
  let dir: string;
  let prefix: string;

  before(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'studyhook-init-')), 'my-study');
    prefix = testPrefix('init');
  });
  after(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('init writes the config, a 0600 .env with fresh secrets and an example sink, and prints the next commands', async () => {
    const r = await runMainCli(['init', dir]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /studyhook check[\s\S]*studyhook start[\s\S]*studyhook sample/);
    const env = await readFile(join(dir, '.env'), 'utf8');
    for (const v of [
      'ADMIN_TOKEN',
      'PROLIFIC_WEBHOOK_SECRET',
      'SENSORLOGGER_STUDY_CODE',
      'ACTIGRAPH_PASSCODE',
      'MYDATAHELPS_TOKEN',
    ])
      assert.match(env, new RegExp(`^${v}=\\S{16,}$`, 'm'));
    assert.equal((await stat(join(dir, '.env'))).mode & 0o777, 0o600);
    const config = await readFile(join(dir, 'studyhook.yml'), 'utf8');
    for (const p of PLATFORMS)
      assert.match(config, new RegExp(`^  ${p}:\\n    namespaces:\\n      pilot:`, 'm'));
    // a second init keeps every file, secrets included
    const again = await runMainCli(['init', dir]);
    assert.equal(again.code, 0);
    assert.equal(await readFile(join(dir, '.env'), 'utf8'), env);
    assert.match(again.out, /kept .*\.env \(exists; not overwritten\)/);
    // the test's own Redis prefix, so that it shares no keys with a real deployment
    await writeFile(
      join(dir, 'studyhook.yml'),
      config.replace(
        'redis:\n  url: redis://127.0.0.1:6379',
        `redis:\n  url: ${REDIS_URL}\n  prefix: "${prefix}"`,
      ),
    );
  });

  it('check passes on the starter config, reading the secrets from its .env', async () => {
    const r = await keepingEnv(() => runMainCli(['check', '--config', join(dir, 'studyhook.yml')]));
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /config OK .* 2 sink\(s\) loaded/);
  });

  it('in a checkout, `cd my-study && npm run studyhook -- check` reads my-study/studyhook.yml, not the built-in defaults', async () => {
    // why: npm runs a script in the package root; `--prefix` stands for the checkout the user is in.
    const r = await run('npm', ['--prefix', root, 'run', '-s', 'studyhook', '--', 'check'], {
      cwd: dir,
      env: { ...process.env, STUDYHOOK_CONFIG: '' },
    });
    const want = `config OK (${join(dir, 'studyhook.yml')}); 2 sink(s) loaded`;
    assert.ok(r.stderr.includes(want), r.stderr);
  });

  it('start serves every platform; sample for each is delivered to the example sink and the archive; status then reports all well', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), STUDYHOOK_CONFIG: '' };
    for (const k of [
      'ADMIN_TOKEN',
      'PROLIFIC_WEBHOOK_SECRET',
      'SENSORLOGGER_STUDY_CODE',
      'ACTIGRAPH_PASSCODE',
      'MYDATAHELPS_TOKEN',
      'REDIS_URL',
    ])
      delete env[k];
    const proc = spawn(process.execPath, [...studyhookArgs(), 'start'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c) => {
      out += String(c);
    });
    proc.stderr.on('data', (c) => {
      out += String(c);
    });
    try {
      // off a TTY the banner is one JSON line with the same facts
      const banner = await waitFor(
        'the start-up line',
        () =>
          out
            .split('\n')
            .map((l) => {
              try {
                return JSON.parse(l) as {
                  config: string;
                  dataDir: string;
                  dashboard: string;
                  register?: { platform: string }[];
                };
              } catch {
                return undefined;
              }
            })
            .find((l) => l?.register),
        60000,
      );
      assert.equal(banner.config, join(dir, 'studyhook.yml'));
      assert.equal(banner.dataDir, join(dir, 'data'));
      assert.deepEqual(new Set(banner.register!.map((r) => r.platform)), new Set(PLATFORMS));
      assert.match(banner.dashboard, /^on: /);
      assert.equal((await stat(join(dir, 'data'))).mode & 0o777, 0o750 & ~process.umask());
      const base = `http://127.0.0.1:${port}`;
      for (const p of PLATFORMS) {
        const r = await keepingEnv(() =>
          runMainCli(['sample', p, '--url', base, '--config', join(dir, 'studyhook.yml')]),
        );
        assert.equal(r.code, 0, `${p}: ${r.out}${r.err}`);
      }
      const rows = await waitFor('a row per platform in the example sink', async () => {
        const text = await readFile(join(dir, 'data', 'example-sink.csv'), 'utf8').catch(() => '');
        return PLATFORMS.every((p) => text.includes(`"${p}","pilot"`)) && text;
      });
      assert.ok(rows);
      const status = await waitFor('the archive to hold every platform', async () => {
        const r = await keepingEnv(() =>
          runMainCli(['status', '--json', '--config', join(dir, 'studyhook.yml')]),
        );
        const s = JSON.parse(r.out) as { lastEvents: { platform: string }[] };
        return PLATFORMS.every((p) => s.lastEvents.some((e) => e.platform === p)) && { ...r, s };
      });
      assert.equal(status.code, 0, status.out);
      assert.deepEqual((status.s as unknown as { attention: string[] }).attention, []);
      const human = await keepingEnv(() =>
        runMainCli(['status', '--config', join(dir, 'studyhook.yml')]),
      );
      assert.match(human.out, /start +\S+ pid \d+/);
      assert.match(human.out, /all well/);
    } catch (err) {
      throw new Error(`${(err as Error).message}; the gateway wrote:\n${out}`, { cause: err });
    } finally {
      await stop(proc, 'SIGTERM');
    }
  });
});
