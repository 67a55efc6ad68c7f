import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMainCli as run } from './helpers/run-main.js';

describe('studyhook CLI', () => {
  it('check prints the effective config with secrets from the environment masked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    const file = join(dir, 'c.yml');
    await writeFile(
      file,
      'platforms:\n  sensorlogger:\n    namespaces:\n      s: { secretCodes: ["${SL_CODE}"] }\n',
    );
    const r = await run(['check', '--config', file], { SL_CODE: 'cli-secret-code' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /config OK/);
    assert.ok(!r.out.includes('cli-secret-code'));
    assert.match(r.out, /\*\*\*\*\*\*\*\*/);
  });

  it('check lists every config error and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    const file = join(dir, 'c.yml');
    await writeFile(file, 'server: { port: x }\nsinks: [{ name: a, use: nope }]\n');
    const r = await run(['check', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.err, /SH_CONFIG_INVALID/);
    assert.match(r.err, /\/server\/port/);
    assert.match(r.err, /\/sinks\/0\/use/);
  });

  it('start exits with the fix when Redis cannot be reached and the spool is off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    await writeFile(join(dir, 'c.yml'), `dataDir: ${dir}\nspool: { enabled: false }\n`);
    const r = await run(['start', '--config', join(dir, 'c.yml')], {
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    assert.equal(r.code, 1);
    assert.match(r.err, /SH_REDIS_UNREACHABLE/);
    assert.match(r.err, /REDIS_URL/);
  });

  it('prints usage for an unknown command', async () => {
    const r = await run(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.err, /Commands:/);
  });
});
