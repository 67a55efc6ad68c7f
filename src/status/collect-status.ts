import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ResolvedConfig } from '../config/load-config.js';
import type { ProcessInfo } from '../queue/deployment.js';
import { connectRedis, metaPrefix, openQueue, redisProblem, safeRedisUrl } from '../queue/redis.js';

export interface SinkStatus {
  sink: string;
  waiting: number;
  active: number;
  delayed: number;
  deadLetters: number;
}
export interface NamespaceCount {
  platform: string;
  namespace: string;
  count: number;
}
export interface LastEvent {
  platform: string;
  namespace: string;
  receivedat: string;
  type?: string;
}

/** What `studyhook status` reports; `attention` lists what an operator should look at (empty: all well). */
export interface Status {
  redis: { url: string; prefix: string; reachable: boolean; error?: string };
  sinks: SinkStatus[];
  quarantine: NamespaceCount[];
  spoolBytes: number;
  lastEvents: LastEvent[];
  processes: (ProcessInfo & { name: string })[];
  attention: string[];
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

/** Quarantined records per platform and namespace, less those `quarantine republish` already took in. */
async function quarantineCounts(dataDir: string): Promise<NamespaceCount[]> {
  const root = join(dataDir, 'quarantine');
  const done = new Set(
    (await readFile(join(root, 'republished.jsonl'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        try {
          return (JSON.parse(l) as { key: string }).key;
        } catch {
          return '';
        }
      }),
  );
  const out: NamespaceCount[] = [];
  for (const platform of await entries(root)) {
    for (const namespace of await entries(join(root, platform))) {
      let count = 0;
      for (const f of (await entries(join(root, platform, namespace))).filter((n) =>
        n.endsWith('.jsonl'),
      )) {
        for (const line of (await readFile(join(root, platform, namespace, f), 'utf8')).split(
          '\n',
        )) {
          if (!line.trim()) continue;
          try {
            const r = JSON.parse(line) as { requestid: string; bodysha256: string };
            if (!done.has(`${platform}/${namespace}/${r.requestid}/${r.bodysha256}`)) count += 1;
          } catch {
            count += 1;
          }
        }
      }
      if (count > 0) out.push({ platform, namespace, count });
    }
  }
  return out;
}

/** Bytes of spool journals (`*.jsonl`, adopted ones too): acknowledged events not yet in Redis. */
async function spoolBytes(dataDir: string): Promise<number> {
  let n = 0;
  for (const f of await entries(join(dataDir, 'spool'))) {
    // why: the names adoptOrphans gives, `….adopted-<pid>` and `….adopted-<host>-<pid>[~<n>]`, all count.
    if (!/\.jsonl(\.adopted-(.+-)?\d+(~\d+)?)?$/.test(f) || f === 'rejected.jsonl') continue;
    n += (await stat(join(dataDir, 'spool', f)).catch(() => undefined))?.size ?? 0;
  }
  return n;
}

/** The last line of a file (an archived event), read from its end. */
async function lastLine(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, 1024 * 1024);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8').trimEnd().split('\n').pop();
  } finally {
    await fh.close();
  }
}

/** The newest archived event per platform and namespace (`<archive>/<platform>/<namespace>/<day>.jsonl`). */
async function lastEvents(archiveDir: string): Promise<LastEvent[]> {
  const out: LastEvent[] = [];
  for (const platform of await entries(archiveDir)) {
    for (const namespace of await entries(join(archiveDir, platform))) {
      const days = (await entries(join(archiveDir, platform, namespace)))
        .filter((n) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(n))
        .sort();
      const newest = days.at(-1);
      if (!newest) continue;
      const file = join(archiveDir, platform, namespace, newest);
      try {
        const e = JSON.parse((await lastLine(file)) ?? '') as { receivedat: string; type: string };
        out.push({ platform, namespace, receivedat: e.receivedat, type: e.type });
      } catch {
        out.push({ platform, namespace, receivedat: (await stat(file)).mtime.toISOString() });
      }
    }
  }
  return out;
}

/** Looks at Redis, the queues and the data dir; never changes anything. */
export async function collectStatus(config: ResolvedConfig): Promise<Status> {
  const attention: string[] = [];
  const problem = await redisProblem(config.redis.url);
  const status: Status = {
    redis: {
      url: safeRedisUrl(config.redis.url),
      prefix: config.redis.prefix,
      reachable: !problem,
      ...(problem && { error: problem.message }),
    },
    sinks: [],
    quarantine: [],
    spoolBytes: 0,
    lastEvents: [],
    processes: [],
    attention,
  };
  if (problem) attention.push(`Redis ${status.redis.url} cannot be reached (${problem.message})`);
  else {
    for (const sink of config.sinks) {
      const queue = openQueue(sink.name, config.redis.url, config.redis.prefix);
      try {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
        status.sinks.push({
          sink: sink.name,
          waiting: c['waiting'] ?? 0,
          active: c['active'] ?? 0,
          delayed: c['delayed'] ?? 0,
          deadLetters: c['failed'] ?? 0,
        });
      } finally {
        await queue.close();
      }
    }
    const redis = connectRedis(config.redis.url, 'handle', { lazyConnect: true });
    try {
      await redis.connect();
      const meta = metaPrefix(config.redis.prefix);
      for (const name of (await redis.smembers(`${meta}:processes`)).sort()) {
        const info = await redis.get(`${meta}:process:${name}`);
        if (info) status.processes.push({ name, ...(JSON.parse(info) as ProcessInfo) });
      }
    } finally {
      redis.disconnect();
    }
    for (const s of status.sinks)
      if (s.deadLetters > 0)
        attention.push(
          `sink '${s.sink}' has ${s.deadLetters} dead letter(s): see the error in the dashboard or the warn log, fix it, then \`studyhook replay --sink ${s.sink}\``,
        );
    if (!status.processes.some((p) => p.role !== 'worker'))
      attention.push(
        'no gateway API process is alive on this Redis prefix (`studyhook start`, or `studyhook api`)',
      );
    if (!status.processes.some((p) => p.role !== 'api'))
      attention.push(
        'no worker is alive on this Redis prefix: events queue up undelivered (`studyhook start`, or `studyhook worker`)',
      );
  }
  status.quarantine = await quarantineCounts(config.dataDir);
  for (const q of status.quarantine)
    attention.push(
      `${q.count} quarantined payload(s) in ${q.platform}/${q.namespace}: \`studyhook quarantine list --platform ${q.platform} --namespace ${q.namespace}\``,
    );
  status.spoolBytes = await spoolBytes(config.dataDir);
  if (status.spoolBytes > 0)
    attention.push(
      `${status.spoolBytes} bytes of events wait in the spool for Redis (drained by a running API once Redis answers)`,
    );
  const archive = config.sinks.find((s) => s.use === 'filesystem');
  const dir = archive?.options['dir'];
  if (archive)
    status.lastEvents = await lastEvents(
      typeof dir === 'string' ? resolve(config.dataDir, dir) : join(config.dataDir, 'events'),
    );
  return status;
}
