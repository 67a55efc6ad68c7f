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

/** Why the namespace is missing and how to add it: a config from `studyhook init` has one per platform. */
function namespaceHint(platform: string, namespace: string, configured: string[], path: string | undefined): string {
  const where = path ? `in ${path}` : 'in the built-in defaults (no studyhook.yml found)';
  const fix = configured.length > 0 ? `use --namespace ${configured.join('|')}, or add '${namespace}' under platforms.${platform}.namespaces`
    : path ? `add one under platforms.${platform}.namespaces (docs/configuration.md), or run \`studyhook init\` in a new directory for a starter config`
      : 'run `studyhook init` for a starter config covering every platform, then run this command in that directory';
  return `Namespace '${namespace}' is not configured for ${platform} ${where} (configured: ${configured.join(', ') || 'none'}): ${fix}`;
}

/** Sends one sample request; a gateway that cannot be reached is one line with the fix, not a `fetch failed` stack. */
async function send(target: URL, req: SampleRequest): Promise<Response> {
  try {
    return await fetch(target, { method: req.method, headers: req.headers, body: new Uint8Array(req.body) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new StudyhookError('SH_GATEWAY_UNREACHABLE', `No gateway answers at ${target.origin} (${cause?.code ?? cause?.message ?? (err as Error).message}): start one with \`studyhook start\`, or point --url at it`);
  }
}

export const sample = defineCommand({
  name: 'sample',
  summary: 'send a realistic, correctly signed request for a platform: sample <platform> [--route R] [--namespace N] [--url BASE] [--print]',
  usage: `Usage: studyhook sample <${samples.map((s) => s.platform).join('|')}> [--config FILE] [--route R] [--namespace N] [--url BASE] [--print] [--all]

Sends a realistic, correctly signed request to a running gateway (default http://127.0.0.1:<server.port>), using the namespace's configured secret.`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
      config: { type: 'string', short: 'c' }, route: { type: 'string' }, namespace: { type: 'string', short: 'n' },
      url: { type: 'string' }, print: { type: 'boolean' }, all: { type: 'boolean' },
    } });
    const builder = samples.find((s) => s.platform === positionals[0]);
    if (!builder) { console.error(`Usage: studyhook sample <${samples.map((s) => s.platform).join('|')}> [--route R] [--namespace N] [--url BASE] [--print] [--all]`); return 2; }
    // why: a sample is signed with its own platform's secret; the others, the sinks' and Redis' are not needed.
    const others = samples.filter((s) => s !== builder).map((s) => `/platforms/${s.platform}`);
    const config = loadConfig({ path: values.config, secretsNotNeeded: [...others, '/admin', '/studies', '/sinks', '/redis', '/blobs'] });
    const namespaces = config.platforms[builder.platform]?.namespaces ?? {};
    const namespace = values.namespace ?? Object.keys(namespaces).find((n) => n !== '*') ?? 'sample';
    const settings = namespaces[namespace] ?? namespaces['*'];
    if (!settings) throw new StudyhookError('SH_UNKNOWN_NAMESPACE', namespaceHint(builder.platform, namespace, Object.keys(namespaces), config.path));
    const routes = values.all ? builder.routes : [values.route ?? builder.routes[0]!];
    for (const route of routes) if (!builder.routes.includes(route)) { console.error(`Unknown route '${route}' for ${builder.platform}; routes: ${builder.routes.map((r) => r || "''").join(', ')}`); return 2; }
    const base = new URL(values.url ?? `http://127.0.0.1:${config.server.port}`);
    let failed = 0;
    for (const route of routes) {
      const req = builder.build(route, namespace, settings);
      if (values.print) { console.log(printRequest(base, req)); continue; }
      const target = new URL(`${base.pathname.replace(/\/$/, '')}${req.path}`, base);
      const res = await send(target, req);
      const text = await res.text();
      console.log(`${req.method} ${target.href} → ${res.status} ${res.statusText}\n${text}`);
      if (!res.ok) failed += 1;
    }
    return failed > 0 ? 1 : 0;
  },
});
