import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/load-config.js';
import { loadCompose, serviceEnv } from './helpers/compose.js';

const root = new URL('../', import.meta.url).pathname;
const run = promisify(execFile);
const caddyfile = join(root, 'examples', 'Caddyfile');
const compose = loadCompose();

function hasCaddy(): boolean {
  try {
    execFileSync('caddy', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Adapted {
  apps: { http: { servers: Record<string, { listen: string[]; routes: Route[] }> } };
}
interface Route {
  match?: { host?: string[] }[];
  handle: {
    handler: string;
    routes?: Route[];
    dynamic_upstreams?: { name: string; port: string; source: string };
  }[];
}

/** Every reverse_proxy handler of an adapted config, at any depth of subroutes. */
function proxies(routes: Route[]): Route['handle'] {
  return routes.flatMap((r) =>
    r.handle.flatMap((h) => (h.handler === 'reverse_proxy' ? [h] : proxies(h.routes ?? []))),
  );
}

describe('examples/Caddyfile (the proxy and tls profiles), checked by caddy itself', function () {
  this.timeout(30_000);
  before(function () {
    // .ci/run installs caddy (Debian's package); elsewhere the test says what it needs.
    if (!hasCaddy()) {
      // why: .ci/run installs caddy, so in CI a missing caddy is a broken set-up, not a skip.
      if (process.env['CI']) throw new Error('caddy is not installed, and .ci/run installs it');
      console.log('    skipped: caddy is not installed (apt-get install caddy)');
      this.skip();
    }
  });
  const apiPort = String(
    loadConfig({
      path: join(root, 'examples', 'studyhook.yml'),
      env: serviceEnv(compose.services['api']!),
    }).server.port,
  );
  const cases = [
    {
      service: 'tls',
      env: { STUDYHOOK_DOMAIN: 'hooks.example.org' },
      listen: ':443',
      host: 'hooks.example.org',
    },
    { service: 'proxy', env: {}, listen: ':80', host: undefined },
  ];

  for (const c of cases) {
    it(`${c.service}: adapts to a site on ${c.listen} that load-balances over every api replica on the port the API serves, and validates`, async () => {
      const env = {
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        ...serviceEnv(compose.services[c.service]!, c.env),
      };
      const { stdout } = await run(
        'caddy',
        ['adapt', '--config', caddyfile, '--adapter', 'caddyfile'],
        { env },
      );
      const servers = Object.values((JSON.parse(stdout) as Adapted).apps.http.servers);
      assert.equal(servers.length, 1);
      assert.deepEqual(servers[0]!.listen, [c.listen]);
      assert.deepEqual(
        servers[0]!.routes[0]!.match?.[0]?.host,
        c.host === undefined ? undefined : [c.host],
      );
      const handlers = proxies(servers[0]!.routes);
      assert.deepEqual(
        handlers.map((h) => h.dynamic_upstreams),
        [{ name: 'api', port: apiPort, source: 'a', refresh: 5_000_000_000 }],
      );
      const { stdout: out, stderr } = await run(
        'caddy',
        ['validate', '--config', caddyfile, '--adapter', 'caddyfile'],
        { env },
      );
      assert.match(out + stderr, /Valid configuration/);
    });
  }
});
