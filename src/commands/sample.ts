import { parseArgs } from 'node:util';
import { adapters } from '../../adapters/index.js';
import type { SampleRequest } from '../adapter/sample.js';
import { loadConfig } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { defineCommand } from '../command.js';

function printRequest(base: URL, r: SampleRequest): string {
  const head = [`${r.method} ${base.pathname.replace(/\/$/, '')}${r.path} HTTP/1.1`, `Host: ${base.host}`,
    ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${r.body.length}`];
  const text = r.body.toString('utf8');
  const printable = !r.body.subarray(0, 4096).some((b) => b < 9 || (b > 13 && b < 32));
  return `${head.join('\n')}\n\n${printable ? text : `<${r.body.length} bytes of binary body>`}`;
}

export const sample = defineCommand({
  name: 'sample',
  summary: 'send a realistic, correctly signed request for a platform: sample <platform> [--route R] [--namespace N] [--url BASE] [--print]',
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
      config: { type: 'string', short: 'c' }, route: { type: 'string' }, namespace: { type: 'string', short: 'n' },
      url: { type: 'string' }, print: { type: 'boolean' }, all: { type: 'boolean' }, event: { type: 'string' },
    } });
    const platforms = adapters.filter((a) => a.sample);
    const adapter = platforms.find((a) => a.platform === positionals[0]);
    const builder = adapter?.sample;
    if (!adapter || !builder) { console.error(`Usage: studyhook sample <${platforms.map((a) => a.platform).join('|')}> [--route R] [--event E] [--namespace N] [--url BASE] [--print] [--all]`); return 2; }
    const config = loadConfig({ path: values.config });
    const namespaces = config.platforms[adapter.platform]?.namespaces ?? {};
    const namespace = values.namespace ?? Object.keys(namespaces).find((n) => n !== '*') ?? 'sample';
    const settings = namespaces[namespace] ?? namespaces['*'];
    if (!settings) throw new StudyhookError('SH_UNKNOWN_NAMESPACE', `Namespace '${namespace}' is not configured for ${adapter.platform} (configured: ${Object.keys(namespaces).join(', ') || 'none'})`);
    const routes = values.all ? builder.routes : [values.route ?? builder.routes[0]!];
    for (const route of routes) if (!builder.routes.includes(route)) { console.error(`Unknown route '${route}' for ${adapter.platform}; routes: ${builder.routes.map((r) => r || "''").join(', ')}`); return 2; }
    const events: readonly (string | undefined)[] = values.all && builder.events ? builder.events : [values.event];
    for (const event of events) if (event !== undefined && !builder.events?.includes(event)) { console.error(`Unknown event '${event}' for ${adapter.platform}; events: ${builder.events?.join(', ') ?? 'none'}`); return 2; }
    const base = new URL(values.url ?? `http://127.0.0.1:${config.server.port}`);
    let failed = 0;
    for (const req of routes.flatMap((route) => events.map((event) => builder.build({ route, namespace, settings, ...(event !== undefined && { event }) })))) {
      if (values.print) { console.log(printRequest(base, req)); continue; }
      const target = new URL(`${base.pathname.replace(/\/$/, '')}${req.path}`, base);
      const res = await fetch(target, { method: req.method, headers: req.headers, body: new Uint8Array(req.body) });
      const text = await res.text();
      console.log(`${req.method} ${target.href} → ${res.status} ${res.statusText}\n${text}`);
      if (!res.ok) failed += 1;
    }
    return failed > 0 ? 1 : 0;
  },
});
