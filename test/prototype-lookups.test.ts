import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { adapters } from '../adapters/index.js';
import { normaliseActiGraph } from '../adapters/actigraph/normalise.js';
import type { IncomingRequest } from '../src/adapter/types.js';
import { interpolate } from '../src/config/interpolate.js';
import { loadConfig } from '../src/config/load-config.js';
import type { StudyhookEvent } from '../src/generated/event.js';
import { resolveRoute } from '../src/http/resolve-route.js';
import { renderTemplate } from '../src/sinks/builtin/chat.js';
import { compileFilter } from '../src/event/filter.js';
import { own, ownField } from '../src/util/own.js';
import { PROTO_NAMES } from './helpers/proto-names.js';

const SEED = 22;
/** A key: mostly a prototype name, sometimes an ordinary one. */
const key = fc.oneof(
  fc.constantFrom(...PROTO_NAMES),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,11}$/),
);
/** Every prototype name is tried first, then random ones. */
const everyName = PROTO_NAMES.map((n) => [n] as [string]);

/** An object with the given own keys, built the way JSON.parse builds one (so `__proto__` is an own key). */
function withKeys(keys: readonly string[], value: (k: string) => unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(Object.fromEntries(keys.map((k) => [k, value(k)])))) as Record<
    string,
    unknown
  >;
}

const event = (data: unknown): StudyhookEvent =>
  ({
    specversion: '1.0',
    id: 'x',
    source: '/prolific/lab',
    type: 'prolific.x',
    time: '2026-01-01T00:00:00Z',
    platform: 'prolific',
    namespace: 'lab',
    receivedat: '2026-01-01T00:00:00Z',
    data,
  }) as StudyhookEvent;

describe('lookups keyed by input or config see own keys only (Object.prototype names included)', () => {
  it('own() and ownField() find exactly the own keys of a record, whatever the key is named', () => {
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 6 }), key, (keys, k) => {
        const record = withKeys(keys, (x) => `value of ${x}`);
        const expected = keys.includes(k) ? `value of ${k}` : undefined;
        assert.equal(own(record, k), expected);
        assert.equal(ownField(record, k), expected);
        assert.equal(ownField([1, 2], k), k === 'length' ? 2 : undefined);
        assert.equal(ownField('text', k), undefined);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  describe('resolveRoute with namespaces from the real config loader', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'studyhook-proto-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const load = async (
      namespaces: Record<string, unknown>,
      labvanced: Record<string, unknown> = namespaces,
    ) => {
      const file = join(dir, 'studyhook.yml');
      await writeFile(
        file,
        stringify({
          platforms: {
            sensorlogger: { namespaces },
            labvanced: { namespaces: labvanced },
            prolific: { namespaces: {} },
          },
        }),
      );
      return loadConfig({ path: file, env: {} });
    };
    const byPlatform = new Map(adapters.map((a) => [a.platform, a]));

    it('answers SH_UNKNOWN_NAMESPACE for every name that is not configured, on every platform', async () => {
      const config = await load({ locked: {} });
      await fc.assert(
        fc.asyncProperty(
          key,
          fc.constantFrom(...adapters.map((a) => a.platform)),
          async (name, platform) => {
            const path =
              platform === 'labvanced'
                ? `/${platform}/${encodeURIComponent(name)}/recordTrial`
                : `/${platform}/${encodeURIComponent(name)}`;
            if (name === 'locked' && platform !== 'prolific') return;
            assert.throws(
              () => resolveRoute(path, byPlatform, config.platforms),
              (err: { code: string }) => {
                // why: a MyDataHelps path's one segment may be its `:token` route, and a Labvanced one a route name; never a namespace found on the prototype.
                assert.ok(
                  ['SH_UNKNOWN_NAMESPACE', 'SH_NOT_FOUND'].includes(err.code),
                  `${path}: ${err.code}`,
                );
                return true;
              },
            );
          },
        ),
        {
          seed: SEED,
          numRuns: 200,
          examples: PROTO_NAMES.map((n) => [n, 'sensorlogger'] as [string, string]),
        },
      );
    });

    it('finds a namespace that is really configured under a prototype name, with its own settings', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...PROTO_NAMES), async (name) => {
          const config = await load(
            withKeys([name], () => ({ secretCodes: [`code-${name}`] })),
            {},
          );
          const m = resolveRoute(`/sensorlogger/${name}`, byPlatform, config.platforms);
          assert.deepEqual(m.settings, { secretCodes: [`code-${name}`] });
          assert.equal(m.namespace, name);
        }),
        { seed: SEED, numRuns: PROTO_NAMES.length * 2, examples: everyName },
      );
    });

    it('keeps config lookups of other modules safe: platforms and namespaces have no prototype', async () => {
      const config = await load({ locked: {} });
      for (const name of PROTO_NAMES) {
        assert.equal(config.platforms[name], undefined, name);
        assert.equal(config.platforms['sensorlogger']!.namespaces[name], undefined, name);
      }
    });
  });

  it('`where` conditions see an event field named like a prototype member only when the event has it', () => {
    fc.assert(
      fc.property(key, fc.boolean(), (name, present) => {
        const data = withKeys(present ? [name] : ['other'], () => 'here');
        const e = event(data);
        const exists = compileFilter({ where: [`data.${name} exists`] });
        const equals = compileFilter({ where: [`data.${name} == "here"`] });
        const notIn = compileFilter({ where: [`data.${name} not in ["here"]`] });
        const top = compileFilter({ where: [`${name} exists`] });
        assert.equal(exists(e), present || name === 'other');
        assert.equal(equals(e), present || name === 'other');
        assert.equal(notIn(e), !(present || name === 'other'));
        assert.equal(top(e), Object.hasOwn(e, name));
      }),
      {
        seed: SEED,
        numRuns: 300,
        examples: PROTO_NAMES.map((n) => [n, false] as [string, boolean]),
      },
    );
  });

  it('chat templates render a prototype-named path as empty unless the event has that field', () => {
    fc.assert(
      fc.property(key, fc.boolean(), (name, present) => {
        const e = event(withKeys(present ? [name] : [], () => 'v'));
        assert.equal(renderTemplate(`[{{data.${name}}}]`, e), present ? '[v]' : '[]');
        const v = Object.hasOwn(e, name)
          ? (e as unknown as Record<string, unknown>)[name]
          : undefined;
        assert.equal(
          renderTemplate(`[{{${name}}}]`, e),
          `[${v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)}]`,
        );
      }),
      {
        seed: SEED,
        numRuns: 300,
        examples: PROTO_NAMES.map((n) => [n, false] as [string, boolean]),
      },
    );
  });

  it('config interpolation treats ${<prototype name>} as an unset variable, and reads it when the environment has it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROTO_NAMES).filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n)),
        fc.boolean(),
        (name, set) => {
          const problems: { path: string; message: string }[] = [];
          const secrets = new Set<string>();
          const env = withKeys(set ? [name] : [], () => 'from-env') as Record<string, string>;
          const out = interpolate(
            { a: `x\${${name}}y`, b: `\${${name}:-fallback}` },
            env,
            '',
            problems,
            secrets,
          );
          if (set) {
            assert.deepEqual(out, { a: 'xfrom-envy', b: 'from-env' });
            assert.deepEqual(problems, []);
          } else {
            assert.deepEqual(out, { a: 'xy', b: 'fallback' });
            assert.deepEqual(problems, [
              {
                path: '/a',
                message: `environment variable ${name} is not set (set it in the environment or in the .env next to the config)`,
                env: name,
              },
            ]);
          }
          for (const s of secrets) assert.equal(typeof s, 'string');
        },
      ),
      {
        seed: SEED,
        numRuns: 100,
        examples: PROTO_NAMES.filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n)).map(
          (n) => [n, false] as [string, boolean],
        ),
      },
    );
  });

  it('an ActiGraph event named like a prototype member becomes a plain `actigraph.<name>` event', () => {
    fc.assert(
      fc.property(
        key.filter((n) => !['upload', 'validation'].includes(n.toLowerCase())),
        (name) => {
          const req = {
            headers: { 'x-actigraph-event': name },
            body: Buffer.from('{"studyId":"8"}'),
          } as unknown as IncomingRequest;
          const [draft] = normaliseActiGraph(req, { studyId: '8' });
          assert.equal(typeof draft!.type, 'string');
          assert.match(draft!.type, /^actigraph\.[a-z0-9_]+(\.[a-z0-9_]+)?$/);
        },
      ),
      { seed: SEED, numRuns: 200, examples: everyName },
    );
  });
});
