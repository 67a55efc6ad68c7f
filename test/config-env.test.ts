import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replay } from '../src/commands/replay.js';
import { loadConfig } from '../src/config/load-config.js';
import { StudyhookError } from '../src/errors.js';
import { testPrefix, REDIS_URL } from './helpers/gateway.js';
import { runCli } from './helpers/run-cli.js';
import { keepingEnv } from './helpers/run-main.js';

async function configDir(yml: string, dotEnv?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'studyhook-env-'));
  await writeFile(join(dir, 'studyhook.yml'), yml);
  if (dotEnv !== undefined) await writeFile(join(dir, '.env'), dotEnv);
  return join(dir, 'studyhook.yml');
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StudyhookError, String(err));
    return (err.details as { path: string; message: string }[]).map(
      (p) => `${p.path}: ${p.message}`,
    );
  }
  assert.fail('the config loaded');
}

const ADMIN = 'admin:\n  token: "${ADMIN_TOKEN}"\n';

describe('config: .env next to the config, empty and missing variables, secrets per command', () => {
  it('reads the .env next to the config; a variable of the real environment wins over it', async () => {
    const file = await configDir(ADMIN, 'ADMIN_TOKEN=from-dot-env-0123456789\n');
    assert.equal(loadConfig({ path: file, env: {} }).admin.token, 'from-dot-env-0123456789');
    assert.equal(
      loadConfig({ path: file, env: { ADMIN_TOKEN: 'from-real-env-0123456789' } }).admin.token,
      'from-real-env-0123456789',
    );
    assert.equal(loadConfig({ path: file, env: {} }).envFile, join(file, '..', '.env'));
  });

  it('with process.env, copies the .env values it lacks into it (for libraries that read process.env)', async () => {
    const file = await configDir(
      ADMIN,
      'ADMIN_TOKEN=from-dot-env-0123456789\nSH_TEST_EXTRA=extra\n',
    );
    await keepingEnv(async () => {
      delete process.env['ADMIN_TOKEN'];
      delete process.env['SH_TEST_EXTRA'];
      assert.equal(loadConfig({ path: file }).admin.token, 'from-dot-env-0123456789');
      assert.equal(process.env['SH_TEST_EXTRA'], 'extra');
    });
  });

  it('says a variable set to the empty string is empty, not "not set"', async () => {
    const file = await configDir(ADMIN);
    assert.deepEqual(
      problemsOf(() => loadConfig({ path: file, env: { ADMIN_TOKEN: '' } })),
      [
        '/admin/token: environment variable ADMIN_TOKEN is set but empty (give it a value, or write ${ADMIN_TOKEN:-default})',
      ],
    );
  });

  it('reports a missing variable once, without follow-up schema errors on the same field', async () => {
    const file = await configDir(
      `${ADMIN}platforms:\n  prolific:\n    namespaces:\n      lab: { secrets: ["\${PROLIFIC_SECRET}"] }\n`,
    );
    assert.deepEqual(
      problemsOf(() => loadConfig({ path: file, env: {} })),
      [
        '/admin/token: environment variable ADMIN_TOKEN is not set (set it in the environment or in the .env next to the config)',
        '/platforms/prolific/namespaces/lab/secrets/0: environment variable PROLIFIC_SECRET is not set (set it in the environment or in the .env next to the config)',
      ],
    );
  });

  it('replay runs without the platform and sink secrets it does not use', async () => {
    const prefix = testPrefix('env');
    const file = await configDir(
      `redis: { url: "${REDIS_URL}", prefix: "${prefix}" }\n${ADMIN}platforms:\n  prolific:\n    namespaces:\n      lab: { secrets: ["\${PROLIFIC_SECRET}"] }\nsinks:\n  - { name: fwd, use: http, options: { url: "https://lab.example.org/hook", secret: "\${FORWARD_SECRET}" } }\n`,
    );
    const r = await keepingEnv(async () => {
      for (const k of ['ADMIN_TOKEN', 'PROLIFIC_SECRET', 'FORWARD_SECRET', 'REDIS_URL'])
        delete process.env[k];
      return runCli(replay, ['--config', file, '--dry-run']);
    });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /sink 'fwd': 0 dead letter\(s\) would be/);
  });
});
