import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sample } from '../src/commands/sample.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor } from './helpers/gateway.js';

/** Runs `studyhook sample` against a real gateway configured with `platforms`; returns what it printed and what was delivered. */
async function runSample(platforms: Record<string, unknown>, args: string[][], opts: { send?: boolean; events?: number } = {}) {
  let out = '';
  const t = await startGateway((dir) => { out = join(dir, 'out.jsonl'); return { platforms, sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }] }; });
  const original = console.log;
  const logged: string[] = [];
  console.log = (...a: unknown[]) => { logged.push(a.join(' ')); };
  try {
    const base = opts.send === false ? 'https://hooks.example.org/base' : `http://127.0.0.1:${await t.gateway.listen(0, '127.0.0.1')}`;
    const codes: number[] = [];
    for (const a of args) codes.push(await sample.run([...a, '--config', join(t.dataDir, 'studyhook.yml'), '--url', base, ...(opts.send === false ? ['--print'] : [])]));
    const delivered = opts.send === false ? [] : await waitFor('sample events', () => { const all = readDeliveries(out); return all.length >= (opts.events ?? args.length) && all; });
    return { codes, text: logged.join('\n'), delivered, undelivered: opts.send === false ? readDeliveries(out) : [] };
  } finally { console.log = original; await t.close(); }
}

describe('studyhook sample', () => {
  it('sends a Sensor Logger notice with the configured Study code, which the gateway accepts and delivers', async () => {
    const r = await runSample({ sensorlogger: { namespaces: { pilot: { secretCodes: ['configured-code'] } } } }, [['sensorlogger']]);
    assert.deepEqual(r.codes, [0], r.text);
    assert.match(r.text, /→ 200 OK/);
    assert.equal(r.delivered[0]!.event.type, 'sensorlogger.recording.uploaded');
    assert.equal(r.delivered[0]!.secrets['secretCode'], 'configured-code');
  });

  it('--print shows the raw HTTP request instead of sending it', async () => {
    const r = await runSample({ sensorlogger: { namespaces: { pilot: { secretCodes: ['configured-code'] } } } }, [['sensorlogger']], { send: false });
    assert.deepEqual(r.codes, [0]);
    assert.match(r.text, /^POST \/base\/sensorlogger\/pilot HTTP\/1\.1\nHost: hooks\.example\.org\n/);
    assert.match(r.text, /"secretCode":"configured-code"/);
    assert.equal(r.undelivered.length, 0);
  });

  const signed: [string, Record<string, unknown>, string[][], string[]][] = [
    ['a Prolific event signed with the namespace secret', { prolific: { namespaces: { lab: { secrets: ['sample-test-secret'] } } } }, [['prolific']], ['prolific.submission.status.change']],
    ['an ActiGraph upload signed with the passcode, and a validation handshake', { actigraph: { namespaces: { cp: { auth: 'hmac', passcodes: ['sample-passcode'] } } } }, [['actigraph'], ['actigraph', '--event', 'validation']], ['actigraph.upload.completed']],
    ['every Labvanced route from the allowed origin, the upload as multipart', { labvanced: { namespaces: { stroop: {} } } }, [['labvanced', '--all']], ['labvanced.trial.recorded', 'labvanced.session.assigned', 'labvanced.session.started', 'labvanced.session.meta', 'labvanced.task.started', 'labvanced.session.finished', 'labvanced.session.failed', 'labvanced.file.uploaded']],
    ['MyDataHelps callbacks on the token URL', { mydatahelps: { namespaces: { live: { tokens: ['0123456789abcdef0123'] } } } }, [['mydatahelps', '--all']], ['mydatahelps.survey.submitted', 'mydatahelps.schedule.triggered']],
  ];
  for (const [what, platforms, args, types] of signed) {
    it(`sends ${what}, which the gateway accepts`, async () => {
      const r = await runSample(platforms, args, { events: types.length });
      assert.ok(r.codes.every((c) => c === 0), r.text);
      assert.doesNotMatch(r.text, /→ [45]\d\d/);
      assert.deepEqual(new Set(r.delivered.map((d) => d.event.type)), new Set(types));
    });
  }
});
