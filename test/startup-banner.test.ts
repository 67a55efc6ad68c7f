import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '../src/config/load-config.js';
import { formatBanner, startupInfo } from '../src/log/start-banner.js';
import { startGateway, type TestGateway, waitFor } from './helpers/gateway.js';
import { freePort } from './helpers/processes.js';
import { studyhookArgs } from './helpers/studyhook-cli.js';

const TOKEN = 'tok0123456789abcdefXYZ';

describe('start-up banner and GET /', () => {
  let t: TestGateway;
  let port: number;
  before(async () => {
    t = await startGateway({
      admin: { token: 'admin-token-0123456789' },
      platforms: {
        sensorlogger: { namespaces: { pilot: {} } },
        labvanced: { namespaces: { pilot: {} } },
        actigraph: { namespaces: { cp: { auth: 'hmac', passcodes: ['p'] } } },
        prolific: { namespaces: { lab: { secrets: ['s'] } } },
        mydatahelps: { namespaces: { pilot: { tokens: [TOKEN] } } },
      },
    });
    port = await t.gateway.listen(0, '127.0.0.1');
  });
  after(() => t.close());
  const config = () => loadConfig({ path: join(t.dataDir, 'studyhook.yml'), env: {} });

  it('gives for every platform and namespace a URL that reaches its route on the running gateway', async () => {
    const info = startupInfo(config(), 'start', ['archive'], port);
    assert.equal(info.config, join(t.dataDir, 'studyhook.yml'));
    assert.equal(info.dataDir, t.dataDir);
    assert.equal(info.listen, `127.0.0.1:${port}`);
    assert.deepEqual(info.register.map((r) => `${r.platform}/${r.namespace}`).sort(), [
      'actigraph/cp',
      'labvanced/pilot',
      'mydatahelps/pilot',
      'prolific/lab',
      'sensorlogger/pilot',
    ]);
    for (const r of info.register) {
      // the Labvanced player joins its three fields: <IP>:<Port><URL Path>/<route>
      const f = r.fields && Object.fromEntries(r.fields);
      const url = f
        ? `${f['IP']}:${f['Port']}${f['URL Path']}/recordTrial`
        : r.platform === 'mydatahelps'
          ? r.url.replace(/[^/]+$/, TOKEN)
          : r.url;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const body = (await res.json()) as { code?: string };
      assert.ok(
        !['SH_UNKNOWN_PLATFORM', 'SH_UNKNOWN_NAMESPACE', 'SH_NOT_FOUND'].includes(body.code ?? ''),
        `${url}: ${res.status} ${JSON.stringify(body)}`,
      );
      assert.notEqual(res.status, 404, url);
    }
  });

  it('builds the URLs from server.publicUrl, Labvanced as IP / Port / URL Path, and masks the MyDataHelps token and the Redis password', () => {
    const c = config();
    const info = startupInfo(
      {
        ...c,
        server: { ...c.server, publicUrl: 'https://hooks.example.org/sh/' },
        redis: { ...c.redis, url: 'redis://user:pw-secret-1@redis.example:6379' },
      },
      'start',
      ['archive'],
      port,
    );
    const lv = info.register.find((r) => r.platform === 'labvanced')!;
    assert.deepEqual(lv.fields, [
      ['IP', 'https://hooks.example.org'],
      ['Port', '443'],
      ['URL Path', '/sh/labvanced/pilot'],
    ]);
    assert.equal(
      info.register.find((r) => r.platform === 'mydatahelps')!.url,
      'https://hooks.example.org/sh/mydatahelps/pilot/tok0********',
    );
    assert.equal(
      info.register.find((r) => r.platform === 'prolific')!.url,
      'https://hooks.example.org/sh/prolific/lab',
    );
    const text = formatBanner(info);
    assert.match(
      text,
      /labvanced +pilot +IP https:\/\/hooks\.example\.org +Port 443 +URL Path \/sh\/labvanced\/pilot/,
    );
    assert.match(text, /redis +redis:\/\/\*\*\*\*@redis\.example:6379 +prefix /);
    assert.match(text, /dashboard +on: https:\/\/hooks\.example\.org\/sh\/admin/);
    assert.ok(!text.includes('pw-secret-1') && !text.includes(TOKEN), text);
    assert.doesNotMatch(text, /set server\.publicUrl/);
  });

  it('GET / answers a JSON pointer to the health routes, or HTML for a browser', async () => {
    const json = await request(t.gateway.app!).get('/').set('accept', 'application/json');
    assert.equal(json.status, 200);
    assert.equal(json.body.health, '/healthz');
    assert.equal(json.body.dashboard, '/admin');
    const html = await request(t.gateway.app!).get('/').set('accept', 'text/html');
    assert.equal(html.status, 200);
    assert.match(html.headers['content-type']!, /text\/html/);
    assert.match(html.text, /<code>\/readyz<\/code>/);
  });

  it('start on a terminal prints the banner for people (run under script(1), which gives it a TTY)', async function () {
    this.timeout(60000);
    const port = await freePort();
    const node = [
      process.execPath,
      ...studyhookArgs(),
      'start',
      '--config',
      join(t.dataDir, 'studyhook.yml'),
    ].join(' ');
    // why detached: its own process group, so that the gateway under script(1) is stopped with it.
    const proc = spawn('script', ['-qfc', node, '/dev/null'], {
      env: { ...process.env, PORT: String(port), STUDYHOOK_CONFIG: '' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c) => {
      out += String(c);
    });
    const gone = new Promise((r) => proc.once('exit', r));
    try {
      await waitFor('the banner', () => out.includes('mydatahelps'), 50000);
      assert.match(out, new RegExp(`studyhook start listening on 127\\.0\\.0\\.1:${port}`));
      assert.match(
        out,
        /Register these URLs on the platforms \(derived from host and port; set server\.publicUrl/,
      );
      assert.match(
        out,
        new RegExp(
          `labvanced +pilot +IP http://127\\.0\\.0\\.1 +Port ${port} +URL Path /labvanced/pilot`,
        ),
      );
      assert.doesNotMatch(out, /"msg":"studyhook start/);
      assert.ok(!out.includes(TOKEN));
    } finally {
      process.kill(-proc.pid!, 'SIGTERM');
      await gone;
    }
  });
});
