import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sample } from '../src/commands/sample.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';

describe('studyhook sample', () => {
  let t: TestGateway;
  let out = '';
  const logged: string[] = [];
  const original = console.log;
  beforeEach(async () => {
    t = await startGateway((dir) => {
      out = join(dir, 'out.jsonl');
      return { platforms: { sensorlogger: { namespaces: { pilot: { secretCodes: ['configured-code'] } } } }, sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }] };
    });
    console.log = (...args: unknown[]) => { logged.push(args.join(' ')); };
  });
  afterEach(async () => { console.log = original; logged.length = 0; await t.close(); });

  it('sends a Sensor Logger notice signed with the configured Study code, which the gateway accepts and delivers', async () => {
    const port = await t.gateway.listen(0, '127.0.0.1');
    const code = await sample.run(['sensorlogger', '--config', join(t.dataDir, 'studyhook.yml'), '--url', `http://127.0.0.1:${port}`]);
    assert.equal(code, 0, logged.join('\n'));
    assert.match(logged.join('\n'), /→ 200 OK/);
    const [d] = await waitFor('the sample event', () => { const all = readDeliveries(out); return all.length > 0 && all; });
    assert.equal(d!.event.type, 'sensorlogger.recording.uploaded');
    assert.equal(d!.secrets['secretCode'], 'configured-code');
  });

  it('--print shows the raw HTTP request instead of sending it', async () => {
    const code = await sample.run(['sensorlogger', '--config', join(t.dataDir, 'studyhook.yml'), '--print', '--url', 'https://hooks.example.org/base']);
    assert.equal(code, 0);
    const text = logged.join('\n');
    assert.match(text, /^POST \/base\/sensorlogger\/pilot HTTP\/1\.1\nHost: hooks\.example\.org\n/);
    assert.match(text, /"secretCode":"configured-code"/);
    assert.equal(readDeliveries(out).length, 0);
  });
});

describe('studyhook sample prolific', () => {
  it('signs with the namespace secret so the gateway accepts it', async () => {
    let out = '';
    const t = await startGateway((dir) => { out = join(dir, 'out.jsonl'); return { platforms: { prolific: { namespaces: { lab: { secrets: ['sample-test-secret'] } } } }, sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }] }; });
    const original = console.log;
    const logged: string[] = [];
    console.log = (...args: unknown[]) => { logged.push(args.join(' ')); };
    try {
      const port = await t.gateway.listen(0, '127.0.0.1');
      const code = await sample.run(['prolific', '--config', join(t.dataDir, 'studyhook.yml'), '--url', `http://127.0.0.1:${port}`]);
      assert.equal(code, 0, logged.join('\n'));
      const [d] = await waitFor('the sample event', () => { const all = readDeliveries(out); return all.length > 0 && all; });
      assert.equal(d!.event.type, 'prolific.submission.status.change');
    } finally { console.log = original; await t.close(); }
  });
});

describe('studyhook sample actigraph', () => {
  it('signs an upload with the namespace passcode, and gets the validation secret echoed', async () => {
    let out = '';
    const t = await startGateway((dir) => { out = join(dir, 'out.jsonl'); return { platforms: { actigraph: { namespaces: { cp: { auth: 'hmac', passcodes: ['sample-passcode'] } } } }, sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }] }; });
    const original = console.log;
    const logged: string[] = [];
    console.log = (...args: unknown[]) => { logged.push(args.join(' ')); };
    try {
      const port = await t.gateway.listen(0, '127.0.0.1');
      const args = ['actigraph', '--config', join(t.dataDir, 'studyhook.yml'), '--url', `http://127.0.0.1:${port}`];
      assert.equal(await sample.run(args), 0, logged.join('\n'));
      assert.equal(await sample.run([...args, '--route', 'validation']), 0, logged.join('\n'));
      const [d] = await waitFor('the sample event', () => { const all = readDeliveries(out); return all.length > 0 && all; });
      assert.equal(d!.event.type, 'actigraph.upload.completed');
    } finally { console.log = original; await t.close(); }
  });
});
