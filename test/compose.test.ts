import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import proxyaddr from 'proxy-addr';
import { loadConfig } from '../src/config/load-config.js';
import { waitFor } from './helpers/gateway.js';
import {
  durationMs,
  loadCompose,
  publishedOn,
  serviceEnv,
  studyhookServices,
  substitute,
  type ComposeService,
} from './helpers/compose.js';
import { freePort } from './helpers/processes.js';
import { studyhookArgs } from './helpers/studyhook-cli.js';

const root = new URL('../', import.meta.url).pathname;
const run = promisify(execFile);
const compose = loadCompose();
const services = studyhookServices(compose);
const exampleConfig = join(root, 'examples', 'studyhook.yml');

/** The config a studyhook service runs with: the mounted example config and the service's environment. */
function configOf(service: ComposeService, env: Record<string, string> = {}) {
  assert.deepEqual(service.command!.slice(1), ['--config', '/config/studyhook.yml']);
  return loadConfig({ path: exampleConfig, env: serviceEnv(service, env) });
}

/** The port a healthcheck probes (`http://127.0.0.1:<port>/healthz`). */
function probedPort(service: ComposeService): number {
  const m = /127\.0\.0\.1:(\d+)\/healthz/.exec(service.healthcheck?.test.join(' ') ?? '');
  assert.ok(m, 'the healthcheck probes http://127.0.0.1:<port>/healthz');
  return Number(m[1]);
}

describe('docker-compose.yml', () => {
  it('runs the API and the worker from the example config (sanity of the parse)', () => {
    assert.deepEqual(
      services.map(([name, s]) => [name, s.command![0]]),
      [
        ['api', 'api'],
        ['worker', 'worker'],
      ],
    );
  });

  it("probes each studyhook service's health on the port that service serves", () => {
    for (const [name, s] of services) {
      const config = configOf(s);
      const served = s.command![0] === 'worker' ? config.workers.metricsPort : config.server.port;
      assert.ok(served !== undefined, `${name} serves HTTP (a worker needs workers.metricsPort)`);
      assert.equal(probedPort(s), served, `${name}'s healthcheck port`);
    }
  });

  it('lets a stopping process finish: stop_grace_period covers shutdownTimeoutMs and the exit 5 s after it', () => {
    for (const [name, s] of services) {
      const { shutdownTimeoutMs } = configOf(s).server;
      assert.ok(
        durationMs(s.stop_grace_period ?? '10s') >= shutdownTimeoutMs + 5000,
        `${name}: ${s.stop_grace_period} < ${shutdownTimeoutMs} ms + 5 s`,
      );
    }
  });

  it('keeps one spool journal per API replica: no fixed hostname, and journals of gone replicas are adopted', () => {
    // why not a fixed hostname: journals are <hostname>-<pid>.jsonl and every container is pid 1, so
    // `--scale api=N` replicas would share one journal; adoption across hosts drains a recreated one.
    const api = compose.services['api']!;
    assert.equal(api.hostname, undefined);
    assert.match(
      api.ports![0]!,
      /\$\{STUDYHOOK_PORT:-8080\}-\$\{STUDYHOOK_PORT_LAST:-8089\}:8080/,
      'a host port range, for --scale api=N',
    );
    const { spool } = configOf(api);
    assert.equal(spool.enabled, true);
    assert.ok(spool.orphanAfterMs > spool.heartbeatMs && spool.orphanAfterMs <= 5 * 60_000);
  });

  it('publishes nothing on every interface by default, except the TLS proxy', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const entry of s.ports ?? []) {
        const ip = publishedOn(substitute(entry));
        if (s.profiles?.includes('tls'))
          assert.equal(ip, '0.0.0.0', `${name} is the public HTTPS entry`);
        else assert.equal(ip, '127.0.0.1', `${name} publishes ${entry}`);
      }
    }
  });

  it('builds the image once: the other studyhook services reuse it by name and never pull it', () => {
    const built = services.filter(([, s]) => s.build !== undefined);
    assert.equal(built.length, 1);
    for (const [name, s] of services) {
      assert.equal(s.image, built[0]![1].image, name);
      if (s.build === undefined) assert.equal(s.pull_policy, 'never', name);
    }
  });

  it('starts studyhook after Redis, and after PostgreSQL and the bucket when their profiles are on', () => {
    for (const [name, s] of services) {
      assert.deepEqual(s.depends_on?.['redis'], { condition: 'service_healthy' }, name);
      assert.deepEqual(
        s.depends_on?.['postgres'],
        { condition: 'service_healthy', required: false },
        name,
      );
      assert.deepEqual(
        s.depends_on?.['minio-init'],
        { condition: 'service_completed_successfully', required: false },
        name,
      );
    }
    assert.ok(compose.services['postgres']!.healthcheck, 'postgres has a healthcheck to wait for');
  });

  it('passes ADMIN_TOKEN from .env to the config; empty, the dashboard is off', () => {
    for (const [name, s] of services) {
      assert.equal(configOf(s, { ADMIN_TOKEN: 'a'.repeat(24) }).admin.token, 'a'.repeat(24), name);
      assert.equal(configOf(s).admin.token, undefined, name);
    }
  });

  it('passes BLOB_STORE, S3_BUCKET and S3_ENDPOINT from the shell to the config (`BLOB_STORE=s3 docker compose --profile s3 up -d`)', () => {
    // why: env_file passes .env only; a variable set on the command line reaches a container only
    // through `environment`.
    for (const [name, s] of services) {
      const shell = { BLOB_STORE: 's3', S3_BUCKET: 'lab', S3_ENDPOINT: 'http://store:9000' };
      const blobs = configOf(s, shell).blobs;
      assert.equal(blobs.type, 's3', name);
      assert.deepEqual(
        blobs.type === 's3' && [blobs.bucket, blobs.endpoint],
        ['lab', 'http://store:9000'],
        name,
      );
      assert.equal(configOf(s).blobs.type, 'filesystem', `${name}: by default on the data volume`);
    }
  });

  it("believes X-Forwarded-For from the compose file's own proxies only", () => {
    const trust = proxyaddr.compile([...configOf(compose.services['api']!).server.trustProxy]);
    const proxies = Object.entries(compose.services).filter(([, s]) =>
      s.profiles?.some((p) => p === 'tls' || p === 'proxy'),
    );
    assert.deepEqual(proxies.map(([n]) => n).sort(), ['proxy', 'tls']);
    for (const [name, s] of proxies)
      assert.ok(trust(substitute(s.networks!['default']!.ipv4_address!), 0), name);
    const [net] = compose.networks!['default']!.ipam!.config!;
    const base = substitute(net!.subnet).replace(/\.0\/24$/, '');
    assert.equal(substitute(net!.ip_range!), `${base}.0/25`, 'Docker hands out .0-.127 only');
    // The network's gateway (where published-port connections come from) and any other container.
    for (const host of [1, 2, 127])
      assert.equal(trust(`${base}.${host}`, 0), false, `${base}.${host}`);
    // The example config without compose (no TRUST_PROXY) believes no forwarding header.
    assert.deepEqual(loadConfig({ path: exampleConfig, env: {} }).server.trustProxy, []);
  });

  it('keeps node_modules, .git, .env, data and dist out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['node_modules', '.git', '.env', 'data', 'dist'])
      assert.ok(ignored.includes(p), p);
  });

  it('keeps .env (secrets), data and exports out of git', () => {
    const ignored = readFileSync(join(root, '.gitignore'), 'utf8').split('\n');
    for (const p of ['.env', 'data/', 'exports/']) assert.ok(ignored.includes(p), p);
  });

  it('refuses to start the TLS proxy without STUDYHOOK_DOMAIN, with one line saying so', async () => {
    const tls = compose.services['tls']!;
    const script = substitute(tls.command![0]!);
    const err = await run(tls.entrypoint![0]!, [...tls.entrypoint!.slice(1), script], {
      env: { PATH: process.env['PATH'], STUDYHOOK_SITE: '' },
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err?.code, 1);
    assert.equal(
      err.stderr,
      'tls profile: set STUDYHOOK_DOMAIN (e.g. hooks.example.org) in .env\n',
    );
  });
});

describe('docker-compose.yml: the commands it runs, run here', function () {
  this.timeout(60_000);
  const procs: ChildProcess[] = [];
  let dataDir = '';
  // why db 9: the example config uses the default prefix; its own database keeps it from other tests' queues.
  const redisUrl = 'redis://127.0.0.1:6379/9';
  after(async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise((r) => {
            if (p.exitCode !== null) r(null);
            else {
              p.once('exit', r);
              p.kill('SIGTERM');
            }
          }),
      ),
    );
    const redis = new Redis(redisUrl);
    const keys = await redis.keys('{studyhook}*');
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts every studyhook service with its command and environment; each passes its own healthcheck; an event goes API → worker → archive', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'studyhook-compose-'));
    const apiPort = await freePort();
    const output: string[] = [];
    for (const [name, s] of services) {
      const args = s.command!.map((a) => a.replace('/config/studyhook.yml', exampleConfig));
      // The image's ENV (Dockerfile), then the service's environment; Redis and the API port made local.
      const env = {
        PATH: process.env['PATH'],
        NODE_ENV: 'production',
        STUDYHOOK_DATA_DIR: dataDir,
        ...serviceEnv(s),
        REDIS_URL: redisUrl,
        ...(name === 'api' && { PORT: String(apiPort) }),
      };
      const proc = spawn(process.execPath, [...studyhookArgs(), ...args], {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout!.on('data', (c) => output.push(`${name}: ${String(c)}`));
      proc.stderr!.on('data', (c) => output.push(`${name}: ${String(c)}`));
      procs.push(proc);
    }
    for (const [name, s] of services) {
      // The healthcheck exactly as Docker runs it (the API's port made local).
      const [, node, ...rest] = s.healthcheck!.test;
      const argv = rest.map((a) => (name === 'api' ? a.replace(':8080/', `:${apiPort}/`) : a));
      const healthy = () =>
        run(node === 'node' ? process.execPath : node!, argv).then(
          () => true,
          () => false,
        );
      await waitFor(`${name} to pass its healthcheck\n${output.join('')}`, healthy, 30_000);
    }
    const res = await fetch(`http://127.0.0.1:${apiPort}/sensorlogger/compose-check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ studyId: 'study-c', uploadId: 'up-c', secretCode: 'x' }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const dir = join(dataDir, 'events', 'sensorlogger', 'compose-check');
    const line = await waitFor(
      'the archive line the worker writes',
      async () => {
        const files = existsSync(dir) ? await readdir(dir) : [];
        const text = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('');
        return text.split('\n').find((l) => l.includes(id));
      },
      20_000,
    );
    assert.equal((JSON.parse(line) as { type: string }).type, 'sensorlogger.recording.uploaded');
  });
});
