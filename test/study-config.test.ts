import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PROTO_NAMES } from './helpers/proto-names.js';
import { loadConfig } from '../src/config/load-config.js';

async function load(doc: unknown) {
  const dir = await mkdtemp(join(tmpdir(), 'studyhook-study-config-'));
  const file = join(dir, 'studyhook.yml');
  await writeFile(file, stringify(doc));
  return loadConfig({ path: file, env: {} });
}

describe('studies in the configuration', () => {
  it('links Prolific to Labvanced without any participant setting (PROLIFIC_PID is recorded as subject_code)', async () => {
    const c = await load({
      studies: { stroop: { namespaces: { prolific: 'lab', labvanced: 'stroop' } } },
    });
    const s = c.studies['stroop']!;
    assert.deepEqual(s.participant, {
      prolific: ['participant_id'],
      labvanced: ['subject_code', 'var_data.crowdsourcinSubjId'],
    });
    assert.deepEqual(s.expect.labvanced, { sessions: 1 });
  });

  it('keeps the given linking fields and expectations', async () => {
    const c = await load({
      studies: {
        s: {
          namespaces: { prolific: 'lab', labvanced: 'x', mydatahelps: 'y' },
          participant: { labvanced: ['survey_data.pid', 'token'], mydatahelps: 'ParticipantID' },
          expect: { labvanced: { trials: { Stroop: 120 }, files: 2 }, mydatahelps: { surveys: 3 } },
        },
      },
    });
    const s = c.studies['s']!;
    assert.deepEqual(s.participant.labvanced, ['survey_data.pid', 'token']);
    assert.deepEqual(s.participant.mydatahelps, ['ParticipantID']);
    assert.deepEqual(s.expect.labvanced, { sessions: 1, trials: { Stroop: 120 }, files: 2 });
    assert.equal(s.expect.mydatahelps.surveys, 3);
  });

  it('refuses a mistyped study with every problem at its path and the fix', async () => {
    await assert.rejects(
      load({
        studies: {
          a: {
            namespaces: { prolific: 'lab', labvance: 'x' },
            expect: { labvanced: { trials: -1 } },
          },
          b: {
            namespaces: { labvanced: 'x' },
            participant: { labvanced: 'subjet_code', prolific: 'participant_id' },
            expect: { mydatahelps: { surveys: 1 } },
          },
          c: { participant: {} },
          'bad name!': { namespaces: { prolific: 'lab' } },
        },
      }),
      (err: Error & { code: string; details: { path: string; message: string }[] }) => {
        assert.equal(err.code, 'SH_CONFIG_INVALID');
        const got = err.details.map((d) => `${d.path}: ${d.message}`);
        for (const want of [
          "/studies/a/namespaces: must NOT have additional properties 'labvance'",
          '/studies/a/expect/labvanced/trials: must be >= 0',
          "/studies/b/participant/labvanced: 'subjet_code' is not a labvanced field studyhook links on (use subject_code, token, var_data.<name> or survey_data.<name>)",
          '/studies/b/participant/prolific: the study has no prolific namespace (add studies.b.namespaces.prolific)',
          '/studies/b/expect/mydatahelps: the study has no mydatahelps namespace (add studies.b.namespaces.mydatahelps)',
          "/studies/c: must have required property 'namespaces'",
        ])
          assert.ok(got.includes(want), `missing "${want}" in\n${got.join('\n')}`);
        assert.ok(
          got.some(
            (g) => g.startsWith('/studies: property name must be valid') || g.includes('bad name!'),
          ),
          got.join('\n'),
        );
        return true;
      },
    );
  });
  it('takes a prototype name as a study of its own, refuses one as a platform, a linking platform or an expectation, and pollutes nothing', async () => {
    const write = async (lines: string[]) => {
      // why YAML text: a JS object literal would take `__proto__` as its prototype, not as a key.
      const dir = await mkdtemp(join(tmpdir(), 'studyhook-study-config-'));
      const file = join(dir, 'studyhook.yml');
      await writeFile(file, ['studies:', ...lines, ''].join('\n'));
      return file;
    };
    for (const n of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', ...PROTO_NAMES]) {
      const alone = loadConfig({
        path: await write([`  "${n}": { namespaces: { prolific: lab } }`]),
        env: {},
      });
      assert.ok(Object.hasOwn(alone.studies, n), n);
      assert.deepEqual({ ...alone.studies[n]!.namespaces }, { prolific: 'lab' }, n);
      const file = await write([
        '  s:',
        `    namespaces: { prolific: lab, "${n}": x }`,
        `    participant: { "${n}": f }`,
        `    expect: { "${n}": { surveys: 1 } }`,
      ]);
      assert.throws(
        () => loadConfig({ path: file, env: {} }),
        (err: Error & { code: string; details: { path: string; message: string }[] }) => {
          assert.equal(err.code, 'SH_CONFIG_INVALID', `${n}: ${err.message}`);
          const got = err.details.map((d) => `${d.path}: ${d.message}`);
          for (const at of ['namespaces', 'participant', 'expect'])
            assert.ok(
              got.includes(`/studies/s/${at}: must NOT have additional properties '${n}'`),
              `${n} at ${at}:\n${got.join('\n')}`,
            );
          return true;
        },
      );
    }
    assert.equal(({} as Record<string, unknown>)['f'], undefined);
    assert.equal(({} as Record<string, unknown>)['surveys'], undefined);
  });
});
