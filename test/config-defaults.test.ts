import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { parseSentinelUrl } from '../src/queue/redis-url.js';

async function configFile(doc: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'studyhook-config-defaults-'));
  const file = join(dir, 'studyhook.yml');
  await writeFile(file, stringify(doc));
  return file;
}

describe('configuration defaults come from the schema', () => {
  it('fills a sink and the added archive sink alike, and keeps what the config gives', async () => {
    const c = loadConfig({
      path: await configFile({
        sinks: [
          {
            name: 'hook',
            use: 'http',
            options: { url: 'https://example.org/x' },
            backoff: { delayMs: 50 },
          },
        ],
      }),
      env: {},
    });
    const [hook, archive] = c.sinks;
    assert.deepEqual(hook, {
      name: 'hook',
      use: 'http',
      options: { url: 'https://example.org/x' },
      filter: {},
      attempts: 8,
      backoff: { type: 'exponential', delayMs: 50 },
    });
    assert.deepEqual(archive, {
      name: 'archive',
      use: 'filesystem',
      options: {},
      filter: {},
      attempts: 8,
      backoff: { type: 'exponential', delayMs: 1000 },
    });
    assert.deepEqual(c.redis, {
      url: 'redis://127.0.0.1:6379',
      prefix: '{studyhook}',
      waitReplicas: 0,
      waitTimeoutMs: 1000,
    });
    assert.equal(c.log.level, 'info');
    assert.equal(c.server.rateLimit.burst, 200);
  });

  it('serves any namespace of a platform the config does not name only for Sensor Logger and Labvanced (README, docs/configuring.md)', async () => {
    const c = loadConfig({ path: await configFile({ server: { port: 8080 } }), env: {} });
    const open = Object.entries(c.platforms)
      .filter(([, p]) => Object.keys(p.namespaces).length > 0)
      .map(([name, p]) => [name, Object.keys(p.namespaces)]);
    assert.deepEqual(open.sort(), [
      ['labvanced', ['*']],
      ['sensorlogger', ['*']],
    ]);
  });

  it('turns redis.cluster into one URL with the untagged prefix', async () => {
    const c = loadConfig({
      path: await configFile({
        redis: { cluster: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'] },
      }),
      env: {},
    });
    assert.equal(c.redis.url, 'redis+cluster://10.0.0.1:7000,10.0.0.2:7000');
    assert.equal(c.redis.prefix, 'studyhook');
  });

  it('takes a redis+sentinel:// URL as one server (tagged prefix) and reads its sentinels, name and credentials', async () => {
    const url = 'redis+sentinel://app:p%40ss@10.0.0.1:26380,10.0.0.2/my%20primary';
    const c = loadConfig({ path: await configFile({ redis: { url } }), env: {} });
    assert.equal(c.redis.url, url);
    assert.equal(c.redis.prefix, '{studyhook}');
    assert.deepEqual(parseSentinelUrl(url), {
      nodes: [
        { host: '10.0.0.1', port: 26380 },
        { host: '10.0.0.2', port: 26379 },
      ],
      tls: false,
      username: 'app',
      password: 'p@ss',
      name: 'my primary',
    });
    assert.throws(
      () => parseSentinelUrl('redis+sentinel://app:secret@10.0.0.1'),
      (err: Error) => !err.message.includes('secret') && /<primary name>/.test(err.message),
    );
  });

  it('refuses a built-in sink name that is not in the table, also one named like an Object member', async () => {
    for (const use of ['nope', 'constructor', '__proto__']) {
      const file = await configFile({ sinks: [{ name: 'x', use }] });
      assert.throws(
        () => loadConfig({ path: file, env: {} }),
        (err: Error) => {
          assert.match(
            err.message,
            new RegExp(
              `/sinks/0/use: unknown built-in sink '${use}' \\(known: filesystem, postgres, http, chat, sensorlogger-fetch\\)`,
            ),
          );
          return true;
        },
      );
    }
  });
});
