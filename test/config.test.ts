import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { maskSecrets } from '../src/config/interpolate.js';
import { loadSinks } from '../src/sinks/load-sinks.js';
import { recordingSink } from './helpers/gateway.js';

async function configFile(doc: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'studyhook-config-'));
  const file = join(dir, 'studyhook.yml');
  await writeFile(file, typeof doc === 'string' ? doc : stringify(doc));
  return file;
}

describe('configuration', () => {
  it('works with no file at all: defaults, the archive sink, env overrides', () => {
    const c = loadConfig({
      env: { PORT: '9999', REDIS_URL: 'redis://example:6380', STUDYHOOK_DATA_DIR: '/srv/data' },
      cwd: tmpdir(),
    });
    assert.equal(c.server.port, 9999);
    assert.equal(c.redis.url, 'redis://example:6380');
    assert.equal(c.dataDir, '/srv/data');
    assert.deepEqual(
      c.sinks.map((s) => [s.name, s.use]),
      [['archive', 'filesystem']],
    );
    assert.ok(c.platforms['sensorlogger']?.namespaces['*']);
  });

  it('reports every error at once, each with its path', async () => {
    const file = await configFile({
      server: { port: 'eighty' },
      bogus: true,
      platforms: {
        sensorlogger: { namespaces: { 'bad ns': {}, ok: { secretCodes: 'not-a-list' } } },
        nosuch: {},
      },
      sinks: [
        { name: 'a', use: 'filesystem', module: './x.js' },
        { name: 'a', use: 'nope' },
        { name: 'Bad Name!' },
      ],
    });
    assert.throws(
      () => loadConfig({ path: file, env: {} }),
      (err: Error & { code: string; details: { path: string }[] }) => {
        assert.equal(err.code, 'SH_CONFIG_INVALID');
        const paths = err.details.map((d) => d.path);
        for (const p of [
          '/server/port',
          '/',
          '/platforms/nosuch',
          '/platforms/sensorlogger/namespaces/bad ns',
          '/platforms/sensorlogger/namespaces/ok/secretCodes',
          '/sinks/0',
          '/sinks/1/name',
          '/sinks/1/use',
          '/sinks/2/name',
        ]) {
          assert.ok(paths.includes(p), `missing ${p} in ${paths.join(', ')}`);
        }
        assert.match(err.message, /additional properties 'bogus'/);
        return true;
      },
    );
  });

  it('interpolates ${VAR} secrets, lists a missing variable, and masks secrets in the effective config', async () => {
    const file = await configFile({
      platforms: { sensorlogger: { namespaces: { s: { secretCodes: ['${SL_CODE}'] } } } },
    });
    const c = loadConfig({ path: file, env: { SL_CODE: 'code-from-env' } });
    assert.deepEqual(c.platforms['sensorlogger']!.namespaces['s'], {
      secretCodes: ['code-from-env'],
    });
    assert.ok(!JSON.stringify(maskSecrets(c.platforms, c.secretValues)).includes('code-from-env'));
    assert.throws(
      () => loadConfig({ path: file, env: {} }),
      /environment variable SL_CODE is not set/,
    );
  });

  it('fails at start-up on an unknown sink module or bad sink options, naming the sink', async () => {
    const file = await configFile({
      sinks: [
        { name: 'gone', module: './no-such-sink.js' },
        { name: 'rec', module: recordingSink, options: { fail: 1 } },
      ],
    });
    const c = loadConfig({ path: file, env: {} });
    await assert.rejects(loadSinks(c.sinks), (err: Error & { code: string }) => {
      assert.equal(err.code, 'SH_SINK_LOAD');
      assert.match(err.message, /sink 'gone': cannot load module .*no-such-sink\.js/);
      assert.match(err.message, /sink 'rec': options: must have required property 'file'/);
      return true;
    });
  });

  it('refuses a sink module whose own default concurrency is not a positive integer, and leaves concurrency unset unless configured', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-conc-'));
    await writeFile(
      join(dir, 'many.mjs'),
      'export default { name: "many", concurrency: 0, deliver() {} };',
    );
    const file = await configFile({
      archive: false,
      sinks: [
        { name: 'many', module: join(dir, 'many.mjs') },
        { name: 'set', module: recordingSink, options: { file: 'x' }, concurrency: 3 },
      ],
    });
    const c = loadConfig({ path: file, env: {} });
    assert.equal(c.sinks[0]!.concurrency, undefined, "unset: the sink module's default applies");
    assert.equal(c.sinks[1]!.concurrency, 3);
    await assert.rejects(loadSinks(c.sinks), /sink 'many' .*concurrency is not a positive integer/);
  });

  it('says clearly when the config file named does not exist', () => {
    assert.throws(
      () => loadConfig({ path: '/nonexistent/studyhook.yml', env: {} }),
      (err: Error & { code: string }) => err.code === 'SH_CONFIG_NOT_FOUND',
    );
  });
});
