// Measures what the worst bodies a route accepts cost a running gateway: `/healthz` latency while each
// one is received, parsed, published and delivered, and the process's RSS. Not part of `npm run bench`
// (one request at a time says nothing about throughput); run it after changing body or parse limits:
//   npx tsx bench/worst-body.ts [--mib 16] [--values 250000]
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { freePort, nodeTs, sleep, start, waitForPort } from './procs.js';

const { values: opts } = parseArgs({
  options: {
    mib: { type: 'string', default: '16' },
    values: { type: 'string', default: '250000' },
    redis: { type: 'string', default: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' },
  },
});
const MIB = Number(opts.mib);
const VALUES = Number(opts.values);

function post(port: number, path: string, type: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: {
          'Content-Type': type,
          Origin: 'https://www.labvanced.com',
          'Content-Length': body.length,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function healthz(port: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    req.on('error', () => resolve(Number.POSITIVE_INFINITY));
    req.end();
  });
}

const rss = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const head = '{"expSessionNr":1,"recTaskId":1,"trialNr":1,"recData":{"data":{"x":';
const tail = '}}}';
const fill = (unit: string, bytes: number): string => unit.repeat(Math.floor(bytes / unit.length));
// why: the head holds 6 values (3 objects, 3 commas) and the array 1; the rest is filled to just under the limit.
const room = VALUES - 10;
const cases: [string, string, () => Buffer][] = [
  [
    `${MIB} MiB JSON, one string`,
    'application/json',
    () => Buffer.from(`${head}"${fill('a', MIB * 1048576 - 200)}"${tail}`),
  ],
  [
    `JSON, ${VALUES} values of {}`,
    'application/json',
    () => Buffer.from(`${head}[${fill('{},', (room / 2) * 3)}{}]${tail}`),
  ],
  [
    `JSON, ${VALUES} numbers`,
    'application/json',
    () => Buffer.from(`${head}[${fill('0,', room * 2)}0]${tail}`),
  ],
  [
    `form, ${VALUES} fields`,
    'application/x-www-form-urlencoded',
    () =>
      Buffer.from(
        `expSessionNr=1&recTaskId=1&${Array.from({ length: VALUES - 2 }, (_, i) => `recData[data][x][]=${i}`).join('&')}`,
      ),
  ],
  [
    `JSON, ${VALUES * 4} values of {} (kept in quarantine)`,
    'application/json',
    () => Buffer.from(`${head}[${fill('{},', VALUES * 6)}{}]${tail}`),
  ],
];

const dir = mkdtempSync(join(tmpdir(), 'studyhook-worst-'));
const prefix = `{bench-worst-${randomUUID().slice(0, 8)}}`;
const port = await freePort();
const config = join(dir, 'studyhook.yml');
writeFileSync(
  config,
  stringify({
    dataDir: dir,
    redis: { url: opts.redis, prefix },
    server: { port, host: '127.0.0.1' },
    platforms: { labvanced: { namespaces: { '*': {} } } },
    log: { level: 'warn' },
  }),
);
const proc = start(nodeTs('src/cli.ts', 'start', '--config', config));
try {
  await waitForPort(port, proc);
  // why: the first trial compiles its schema and warms the code paths; that is not the body's cost.
  for (let i = 0; i < 20; i++)
    await post(
      port,
      '/labvanced/x/recordTrial',
      'application/json',
      Buffer.from(`${head}${i}${tail}`),
    );
  await sleep(1000);
  console.log(`| body | bytes | reply | max /healthz ms | RSS before → peak MiB |`);
  console.log('|---|---|---|---|---|');
  for (const [name, type, make] of cases) {
    const body = make();
    const before = rss(proc.pid);
    let peak = before;
    let worst = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        worst = Math.max(worst, await healthz(port));
        peak = Math.max(peak, rss(proc.pid));
        await sleep(20);
      }
    })();
    const status = await post(port, '/labvanced/x/recordTrial', type, body);
    await sleep(3000); // why: the worker in the same process delivers to the archive after the reply
    polling = false;
    await poll;
    console.log(
      `| ${name} | ${body.length} | ${status} | ${worst.toFixed(0)} | ${before.toFixed(0)} → ${peak.toFixed(0)} |`,
    );
  }
} finally {
  await proc.stop();
  const redis = new Redis(opts.redis);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
}
