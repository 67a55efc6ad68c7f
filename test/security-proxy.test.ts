import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const root = new URL('../', import.meta.url).pathname;
const ALLOWED = '13.82.60.74';
const platforms = {
  actigraph: { namespaces: { clinic: { auth: 'none', allowIps: [ALLOWED] } } },
  labvanced: { namespaces: { web: {} } },
};
const sinks = [{ name: 'noop', use: 'filesystem' }];

/** An ActiGraph upload on the allow-listed namespace, claiming `forwardedFor` as the client. */
function actigraph(t: TestGateway, forwardedFor: string) {
  return request(t.gateway.app!)
    .post('/actigraph/clinic')
    .set('X-ActiGraph-Event', 'upload')
    .set('X-Forwarded-For', forwardedFor)
    .set('Content-Type', 'application/json')
    .send(
      JSON.stringify({
        status: 'completed',
        uploadId: `u-${forwardedFor}`,
        studyId: '8',
        subjectId: '1',
      }),
    );
}

/** `n` Labvanced trials from one connection, each claiming another address; the statuses. */
async function spoofedTrials(t: TestGateway, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await request(t.gateway.app!)
      .post('/labvanced/web/recordTrial')
      .set('Origin', 'https://www.labvanced.com')
      .set('X-Forwarded-For', `198.51.100.${i}`)
      .send({ expSessionNr: i, recTaskId: 1, trialNr: 1, recData: { data: { rt: i } } });
    statuses.push(res.status);
  }
  return statuses;
}

describe('exposure by default: forwarding headers and the published port', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-proxy-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = async (server: unknown) => {
    const file = join(dir, 'studyhook.yml');
    await writeFile(file, stringify({ server }));
    return loadConfig({ path: file, env: {} });
  };

  it('refuses trustProxy: true or a hop count at config load, naming the fix', async () => {
    for (const value of [true, 1, 2]) {
      await assert.rejects(
        load({ trustProxy: value }),
        (err: Error & { code: string; details: { path: string; message: string }[] }) => {
          assert.equal(err.code, 'SH_CONFIG_INVALID');
          assert.equal(err.details[0]!.path, '/server/trustProxy');
          assert.match(
            err.details[0]!.message,
            /any client that reaches the port directly.*trustProxy: \["127\.0\.0\.1"\]/,
          );
          return true;
        },
        String(value),
      );
    }
    await assert.rejects(
      load({ trustProxy: ['not-an-address'] }),
      /\/server\/trustProxy: .*not-an-address/,
    );
  });

  it('reads trustProxy as a list of addresses, subnets or names; nothing is trusted by default', async () => {
    assert.deepEqual((await load({})).server.trustProxy, []);
    assert.deepEqual((await load({ trustProxy: false })).server.trustProxy, []);
    assert.deepEqual((await load({ trustProxy: '10.0.0.1, 10.1.0.0/16' })).server.trustProxy, [
      '10.0.0.1',
      '10.1.0.0/16',
    ]);
    assert.deepEqual((await load({ trustProxy: ['loopback', '192.0.2.7'] })).server.trustProxy, [
      'loopback',
      '192.0.2.7',
    ]);
  });

  it('ships an example config that believes no forwarding header, and a compose file that publishes the API on loopback only', () => {
    const example = loadConfig({ path: join(root, 'examples', 'studyhook.yml'), env: {} });
    assert.deepEqual(example.server.trustProxy, []);
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { ports?: string[] }>;
    };
    const ports = compose.services['api']!.ports!;
    assert.equal(ports.length, 1);
    assert.match(ports[0]!, /^\$\{STUDYHOOK_BIND:-127\.0\.0\.1\}:/);
  });

  describe('a direct client that sets X-Forwarded-For', () => {
    let t: TestGateway | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it("does not pass ActiGraph's allowIps, nor escape the rate limit, with the example config's server settings", async () => {
      const server = {
        ...(
          parse(readFileSync(join(root, 'examples', 'studyhook.yml'), 'utf8')) as { server: object }
        ).server,
        port: 0,
        host: '127.0.0.1',
        rateLimit: { perSecond: 1, burst: 5 },
      };
      t = await startGateway({ server, platforms, sinks });
      assert.equal((await actigraph(t, ALLOWED)).status, 401);
      const statuses = await spoofedTrials(t, 10);
      assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
      assert.ok(
        statuses.slice(5).every((s) => s === 429),
        statuses.join(','),
      );
    });

    it('is believed only when it connects from a listed proxy address', async () => {
      t = await startGateway({
        server: { port: 0, host: '127.0.0.1', trustProxy: ['192.0.2.1'] },
        platforms,
        sinks,
      });
      assert.equal((await actigraph(t, ALLOWED)).status, 401, 'loopback is not the listed proxy');
      await t.close();
      t = await startGateway({
        server: { port: 0, host: '127.0.0.1', trustProxy: ['loopback'] },
        platforms,
        sinks,
      });
      assert.equal(
        (await actigraph(t, ALLOWED)).status,
        200,
        'from the listed proxy, the forwarded address counts',
      );
      assert.equal((await actigraph(t, '203.0.113.9')).status, 401);
    });
  });
});
