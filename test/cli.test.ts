import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', timeout: 60000, env: { ...process.env, ...env } });

describe('studyhook CLI', () => {
  it('check prints the effective config with secrets from the environment masked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    const file = join(dir, 'c.yml');
    await writeFile(file, 'platforms:\n  sensorlogger:\n    namespaces:\n      s: { secretCodes: ["${SL_CODE}"] }\n');
    const r = run(['check', '--config', file], { SL_CODE: 'cli-secret-code' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /config OK/);
    assert.ok(!r.stdout.includes('cli-secret-code'));
    assert.match(r.stdout, /\*\*\*\*\*\*\*\*/);
  });

  it('check lists every config error and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    const file = join(dir, 'c.yml');
    await writeFile(file, 'server: { port: x }\nsinks: [{ name: a, use: nope }]\n');
    const r = run(['check', '--config', file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /SH_CONFIG_INVALID/);
    assert.match(r.stderr, /\/server\/port/);
    assert.match(r.stderr, /\/sinks\/0\/use/);
  });

  it('start exits with the fix when Redis cannot be reached and the spool is off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-cli-'));
    await writeFile(join(dir, 'c.yml'), `dataDir: ${dir}\nspool: { enabled: false }\n`);
    const r = run(['start', '--config', join(dir, 'c.yml')], { REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /SH_REDIS_UNREACHABLE/);
    assert.match(r.stderr, /REDIS_URL/);
  });

  it('prints usage for an unknown command', () => {
    const r = run(['frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Commands:/);
  });
});
