import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { samples } from '../samples/index.js';
import type { SampleRequest } from '../samples/types.js';
import { defineCommand } from './types.js';

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
      url: { type: 'string' }, print: { type: 'boolean' }, all: { type: 'boolean' },
    } });
    const builder = samples.find((s) => s.platform === positionals[0]);
    if (!builder) { console.error(`Usage: studyhook sample <${samples.map((s) => s.platform).join('|')}> [--route R] [--namespace N] [--url BASE] [--print] [--all]`); return 2; }
    const config = loadConfig({ path: values.config });
    const namespaces = config.platforms[builder.platform]?.namespaces ?? {};
    const namespace = values.namespace ?? Object.keys(namespaces).find((n) => n !== '*') ?? 'sample';
    const settings = namespaces[namespace] ?? namespaces['*'];
    if (!settings) throw new StudyhookError('SH_UNKNOWN_NAMESPACE', `Namespace '${namespace}' is not configured for ${builder.platform} (configured: ${Object.keys(namespaces).join(', ') || 'none'})`);
    const routes = values.all ? builder.routes : [values.route ?? builder.routes[0]!];
    for (const route of routes) if (!builder.routes.includes(route)) { console.error(`Unknown route '${route}' for ${builder.platform}; routes: ${builder.routes.map((r) => r || "''").join(', ')}`); return 2; }
    const base = new URL(values.url ?? `http://127.0.0.1:${config.server.port}`);
    let failed = 0;
    for (const route of routes) {
      const req = builder.build(route, namespace, settings);
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
