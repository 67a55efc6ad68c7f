import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../src/commands/index.js';
import { freePort } from './helpers/processes.js';
import { keepingEnv, runMainCli } from './helpers/run-main.js';

/** No line of a stack trace: expected errors are one line with the fix. */
const noStack = (text: string) => assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, text);

describe('CLI: help and expected errors', () => {
  for (const c of commands) {
    it(`${c.name} --help prints its usage and exits 0`, async () => {
      const r = await keepingEnv(() => runMainCli([c.name, '--help']));
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`Usage: studyhook ${c.name}`));
      assert.equal(r.err, '');
    });
  }

  it('an unknown option is one line that names it and where to read the valid ones', async () => {
    const r = await runMainCli(['check', '--frobnicate']);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      "studyhook check: Unknown option '--frobnicate'. See `studyhook check --help`.\n",
    );
    noStack(r.err);
  });

  it('sample with no gateway running is one line with the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    await writeFile(
      join(dir, 'c.yml'),
      'platforms:\n  sensorlogger:\n    namespaces:\n      pilot: {}\n',
    );
    const port = await freePort();
    const r = await runMainCli([
      'sample',
      'sensorlogger',
      '--config',
      join(dir, 'c.yml'),
      '--url',
      `http://127.0.0.1:${port}`,
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^studyhook: SH_GATEWAY_UNREACHABLE: No gateway answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): start one with `studyhook start`, or point --url at it\n$/,
    );
  });

  it('sample on the built-in defaults says to run init, for a platform without a default namespace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await keepingEnv(async () => {
        delete process.env['STUDYHOOK_CONFIG'];
        return runMainCli(['sample', 'prolific']);
      });
      assert.equal(r.code, 1);
      assert.match(r.err, /SH_UNKNOWN_NAMESPACE: .*built-in defaults.*run `studyhook init`/);
      noStack(r.err);
    } finally {
      process.chdir(cwd);
    }
  });

  it('status with Redis unreachable says so and exits 1, without a stack', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    const port = await freePort();
    await writeFile(
      join(dir, 'c.yml'),
      `redis: { url: "redis://127.0.0.1:${port}" }\ndataDir: ${dir}\n`,
    );
    const r = await keepingEnv(async () => {
      delete process.env['REDIS_URL'];
      return runMainCli(['status', '--config', join(dir, 'c.yml')]);
    });
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, new RegExp(`redis +redis://127\\.0\\.0\\.1:${port} .*UNREACHABLE`));
    assert.match(
      r.out,
      /NEEDS ATTENTION:\n {2}- Redis redis:\/\/127\.0\.0\.1:\d+ cannot be reached/,
    );
    noStack(r.out + r.err);
  });
  for (const url of [
    'redis+cluster://:pa/ss@127.0.0.1:PORT,127.0.0.1:PORT',
    'redis+cluster://user:p@ss@127.0.0.1:PORT',
    'redis://:pa/ss@127.0.0.1:PORT',
    'redis://user:p@ss@127.0.0.1:PORT',
  ])
    it(`status never prints the password of ${url} (one with a '/' or '@' left unencoded)`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
      const port = await freePort();
      await writeFile(
        join(dir, 'c.yml'),
        `redis: { url: "${url.replaceAll('PORT', String(port))}" }\ndataDir: ${dir}\n`,
      );
      const r = await keepingEnv(async () => {
        delete process.env['REDIS_URL'];
        return runMainCli(['status', '--config', join(dir, 'c.yml')]);
      });
      assert.notEqual(r.code, 0, r.err);
      assert.doesNotMatch(r.out + r.err, /pa\/ss|p@ss|ss@/, r.out + r.err);
    });
  it("status with a cluster URL whose password holds a bare '%' names the problem in one line, without a stack or the password", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    const port = await freePort();
    await writeFile(
      join(dir, 'c.yml'),
      `redis: { url: "redis+cluster://u:50%off@127.0.0.1:${port}" }\ndataDir: ${dir}\n`,
    );
    const r = await keepingEnv(async () => {
      delete process.env['REDIS_URL'];
      return runMainCli(['status', '--config', join(dir, 'c.yml')]);
    });
    assert.notEqual(r.code, 0);
    assert.match(r.err, /SH_CONFIG_INVALID/, r.err);
    assert.doesNotMatch(r.out + r.err, /50%off/);
    noStack(r.out + r.err);
  });
});
