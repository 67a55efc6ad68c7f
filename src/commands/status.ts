import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { collectStatus, type Status } from '../status/collect-status.js';
import { defineCommand } from '../command.js';

const USAGE = `Usage: studyhook status [--config FILE] [--json]

Redis, the queues per sink (waiting, active, dead letters), quarantined payloads per platform and
namespace, the spool's backlog, the last archived event per platform and namespace, and the gateway
processes alive. Exit 0 when all is well, 1 when something needs attention (for a cron check).`;

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120
    ? `${s} s ago`
    : s < 7200
      ? `${Math.round(s / 60)} min ago`
      : s < 172800
        ? `${Math.round(s / 3600)} h ago`
        : `${Math.round(s / 86400)} days ago`;
}

function format(s: Status): string {
  const lines = [
    `redis       ${s.redis.url}  prefix ${s.redis.prefix}  ${s.redis.reachable ? 'reachable' : `UNREACHABLE: ${s.redis.error}`}`,
  ];
  lines.push(
    'processes',
    ...(s.processes.length
      ? s.processes.map(
          (p) =>
            `  ${p.role.padEnd(7)} ${p.host} pid ${p.pid}, since ${p.startedAt} (data dir ${p.dataDir})`,
        )
      : ['  none alive']),
  );
  lines.push(
    'sinks       waiting  active  delayed  dead letters',
    ...s.sinks.map(
      (q) =>
        `  ${q.sink.padEnd(10)}${String(q.waiting).padStart(7)}${String(q.active).padStart(8)}${String(q.delayed).padStart(9)}${String(q.deadLetters).padStart(14)}`,
    ),
  );
  lines.push(
    `quarantine  ${s.quarantine.length ? s.quarantine.map((q) => `${q.platform}/${q.namespace}: ${q.count}`).join(', ') : 'empty'}`,
  );
  lines.push(`spool       ${s.spoolBytes} bytes waiting for Redis`);
  lines.push(
    'last event',
    ...(s.lastEvents.length
      ? s.lastEvents.map(
          (e) =>
            `  ${`${e.platform}/${e.namespace}`.padEnd(28)} ${e.receivedat} (${ago(e.receivedat)})${e.type ? ` ${e.type}` : ''}`,
        )
      : ['  none archived yet']),
  );
  lines.push(
    '',
    s.attention.length
      ? `NEEDS ATTENTION:\n${s.attention.map((a) => `  - ${a}`).join('\n')}`
      : 'all well',
  );
  return lines.join('\n');
}

export const status = defineCommand({
  name: 'status',
  summary:
    'Redis, queues, dead letters, quarantine, spool, last events, live processes; exit 1 when something needs attention',
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
    });
    // why: status reads queues and files; it must work where only the operator's shell has the config, without the platforms' secrets.
    const config = loadConfig({
      path: values.config,
      secretsNotNeeded: ['/platforms', '/admin', '/studies', '/sinks/*/options', '/blobs'],
    });
    const s = await collectStatus(config);
    console.log(values.json ? JSON.stringify(s, null, 2) : format(s));
    return s.attention.length > 0 ? 1 : 0;
  },
});
