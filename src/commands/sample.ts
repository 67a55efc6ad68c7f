import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { adapters } from '../../adapters/index.js';
import type { SampleRequest } from '../adapter/sample.js';
import { defineCommand } from '../command.js';
import { loadConfig } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';

const platforms = adapters.filter((a) => a.sample);

const USAGE = `Usage: studyhook sample <${platforms.map((a) => a.platform).join('|')}> [options]

Sends a realistic request, signed as the platform signs it with the secret in your config, and
prints the reply.

  --route R       a route of the platform (default: its first)
  --event E       the kind of call, where a platform has several (default: the first):
${platforms
  .filter((a) => a.sample!.events)
  .map((a) => `                    ${a.platform}: ${a.sample!.events!.join(', ')}`)
  .join('\n')}
  --status S      the status the event reports (Prolific: APPROVED, AWAITING REVIEW, ...)
  --body FILE     send the bytes of FILE as the body (still signed)
  --all           every route and every kind of call, one labelled line each
  --print         print a runnable curl command instead of sending
  --namespace N   the namespace (default: the first configured)
  --url BASE      the gateway's base URL (default: http://127.0.0.1:<port>)
  --config FILE`;

/** `'…'` for a POSIX shell: single quotes, an embedded one written as '\\''. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A curl command that sends `r` to `url`; a body that is not printable text is written to a file the command reads. */
function curlOf(url: URL, r: SampleRequest): string {
  const head = [
    `curl -sS -i -X ${r.method} ${shellQuote(url.href)}`,
    ...Object.entries(r.headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`),
  ];
  const printable =
    !r.body.some((b) => b < 9 || (b > 13 && b < 32) || b === 127) &&
    Buffer.from(r.body.toString('utf8')).equals(r.body);
  if (r.body.length === 0) return head.join(' \\\n  ');
  if (printable)
    return [...head, `--data-binary ${shellQuote(r.body.toString('utf8'))}`].join(' \\\n  ');
  const file = join(
    tmpdir(),
    `studyhook-sample-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.bin`,
  );
  writeFileSync(file, r.body);
  return [...head, `--data-binary @${shellQuote(file)}`].join(' \\\n  ');
}

/** Why the namespace is missing and how to add it: a config from `studyhook init` has one per platform. */
function namespaceHint(
  platform: string,
  namespace: string,
  configured: string[],
  path: string | undefined,
): string {
  const where = path ? `in ${path}` : 'in the built-in defaults (no studyhook.yml found)';
  const fix =
    configured.length > 0
      ? `use --namespace ${configured.join('|')}, or add '${namespace}' under platforms.${platform}.namespaces`
      : path
        ? `add one under platforms.${platform}.namespaces (docs/configuration.md), or run \`studyhook init\` in a new directory for a starter config`
        : 'run `studyhook init` for a starter config covering every platform, then run this command in that directory';
  return `Namespace '${namespace}' is not configured for ${platform} ${where} (configured: ${configured.join(', ') || 'none'}): ${fix}`;
}

/** Sends one sample request; a gateway that cannot be reached is one line with the fix, not a `fetch failed` stack. */
async function send(target: URL, req: SampleRequest): Promise<Response> {
  try {
    return await fetch(target, {
      method: req.method,
      headers: req.headers,
      body: new Uint8Array(req.body),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new StudyhookError(
      'SH_GATEWAY_UNREACHABLE',
      `No gateway answers at ${target.origin} (${cause?.code ?? cause?.message ?? (err as Error).message}): start one with \`studyhook start\`, or point --url at it`,
    );
  }
}

export const sample = defineCommand({
  name: 'sample',
  summary:
    'send (or --print as curl) a realistic, correctly signed request for a platform: sample <platform> [--event E] [--status S] [--all] (--help)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        route: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        url: { type: 'string' },
        print: { type: 'boolean' },
        all: { type: 'boolean' },
        event: { type: 'string' },
        status: { type: 'string' },
        body: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const adapter = platforms.find((a) => a.platform === positionals[0]);
    const builder = adapter?.sample;
    if (!adapter || !builder) {
      console.error(USAGE);
      return 2;
    }
    const routes = values.all ? builder.routes : [values.route ?? builder.routes[0]!];
    for (const route of routes)
      if (!builder.routes.includes(route)) {
        console.error(
          `Unknown route '${route}' for ${adapter.platform}; routes: ${builder.routes.map((r) => r || "''").join(', ')}`,
        );
        return 2;
      }
    const events: readonly (string | undefined)[] =
      values.all && builder.events ? builder.events : [values.event];
    for (const event of events)
      if (event !== undefined && !builder.events?.includes(event)) {
        console.error(
          `Unknown event '${event}' for ${adapter.platform}; events: ${builder.events?.join(', ') ?? 'none (it sends one kind of call)'}`,
        );
        return 2;
      }
    let body: Buffer | undefined;
    if (values.body !== undefined) {
      try {
        body = readFileSync(values.body);
      } catch (err) {
        console.error(
          `studyhook sample: cannot read --body ${values.body}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
        return 2;
      }
    }
    // why: a sample is signed with its own platform's secret; the others, the sinks' and Redis' are not needed.
    const others = adapters.filter((a) => a !== adapter).map((a) => `/platforms/${a.platform}`);
    const config = loadConfig({
      path: values.config,
      secretsNotNeeded: [...others, '/admin', '/studies', '/sinks', '/redis', '/blobs'],
    });
    const namespaces = config.platforms[adapter.platform]?.namespaces ?? {};
    const namespace =
      values.namespace ?? Object.keys(namespaces).find((n) => n !== '*') ?? 'sample';
    const settings = namespaces[namespace] ?? namespaces['*'];
    if (!settings)
      throw new StudyhookError(
        'SH_UNKNOWN_NAMESPACE',
        namespaceHint(adapter.platform, namespace, Object.keys(namespaces), config.path),
      );
    const base = new URL(values.url ?? `http://127.0.0.1:${config.server.port}`);
    const calls = routes.flatMap((route) => events.map((event) => ({ route, event })));
    let failed = 0;
    for (const { route, event } of calls) {
      const req = builder.build({
        route,
        namespace,
        settings,
        ...(event !== undefined && { event }),
        ...(values.status !== undefined && { status: values.status }),
        ...(body && { body }),
      });
      // why: with several requests each line says which one it is (ActiGraph's handshake and its upload go to the same URL).
      const label =
        calls.length > 1
          ? [adapter.platform, route && `/${route}`, req.label ?? event].filter(Boolean).join(' ')
          : undefined;
      const target = new URL(`${base.pathname.replace(/\/$/, '')}${req.path}`, base);
      if (values.print) {
        console.log(`${label ? `# ${label}\n` : ''}${curlOf(target, req)}`);
        continue;
      }
      const res = await send(target, req);
      const text = await res.text();
      console.log(
        `${label ? `[${label}] ` : ''}${req.method} ${target.href} → ${res.status} ${res.statusText}\n${text}`,
      );
      if (!res.ok) failed += 1;
    }
    return failed > 0 ? 1 : 0;
  },
});
