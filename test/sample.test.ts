import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sample } from '../src/commands/sample.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor } from './helpers/gateway.js';

const sh = promisify(execFile);

/**
 * Runs `studyhook sample` against a real gateway configured with `platforms`; returns what it printed
 * and what was delivered. `send: false` only prints (--print, to a base URL nothing listens on);
 * `curl: true` prints, then runs every printed curl command against the gateway.
 */
async function runSample(
  platforms: Record<string, unknown>,
  args: string[][],
  opts: { send?: boolean; curl?: boolean; events?: number; files?: Record<string, string> } = {},
) {
  let out = '';
  const t = await startGateway((dir) => {
    out = join(dir, 'out.jsonl');
    return { platforms, sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }] };
  });
  const original = console.log;
  const logged: string[] = [];
  console.log = (...a: unknown[]) => {
    logged.push(a.join(' '));
  };
  try {
    for (const [name, text] of Object.entries(opts.files ?? {}))
      await writeFile(join(t.dataDir, name), text);
    const base =
      opts.send === false
        ? 'https://hooks.example.org/base'
        : `http://127.0.0.1:${await t.gateway.listen(0, '127.0.0.1')}`;
    const codes: number[] = [];
    const print = opts.send === false || opts.curl ? ['--print'] : [];
    for (const a of args)
      codes.push(
        await sample.run([
          ...a.map((x) => x.replace('$DIR', t.dataDir)),
          '--config',
          join(t.dataDir, 'studyhook.yml'),
          '--url',
          base,
          ...print,
        ]),
      );
    const curlReplies: string[] = [];
    if (opts.curl)
      for (const command of logged
        .join('\n')
        .split(/\n(?=curl |# )/)
        .filter((c) => c.startsWith('curl ')))
        curlReplies.push((await sh('sh', ['-c', command])).stdout);
    const delivered =
      opts.send === false
        ? []
        : await waitFor('sample events', () => {
            const all = readDeliveries(out);
            return all.length >= (opts.events ?? args.length) && all;
          });
    return {
      codes,
      text: logged.join('\n'),
      lines: logged,
      curlReplies,
      delivered,
      undelivered: opts.send === false ? readDeliveries(out) : [],
    };
  } finally {
    console.log = original;
    await t.close();
  }
}

describe('studyhook sample', () => {
  it('sends a Sensor Logger notice with the configured Study code, which the gateway accepts and delivers', async () => {
    const r = await runSample(
      { sensorlogger: { namespaces: { pilot: { secretCodes: ['configured-code'] } } } },
      [['sensorlogger']],
    );
    assert.deepEqual(r.codes, [0], r.text);
    assert.match(r.text, /→ 200 OK/);
    assert.equal(r.delivered[0]!.event.type, 'sensorlogger.recording.uploaded');
    assert.equal(r.delivered[0]!.secrets['secretCode'], 'configured-code');
  });

  it('--print shows a curl command instead of sending it', async () => {
    const r = await runSample(
      { sensorlogger: { namespaces: { pilot: { secretCodes: ['configured-code'] } } } },
      [['sensorlogger']],
      { send: false },
    );
    assert.deepEqual(r.codes, [0]);
    assert.match(
      r.text,
      /^curl -sS -i -X POST 'https:\/\/hooks\.example\.org\/base\/sensorlogger\/pilot' \\\n {2}-H 'content-type: application\/json'/,
    );
    assert.match(
      r.text,
      /--data-binary '\{"studyId":"sample-study","uploadId":"[^"]+","secretCode":"configured-code"\}'$/,
    );
    assert.equal(r.undelivered.length, 0);
  });

  it('--print gives curl commands that the gateway accepts when run, signed ones and a multipart upload (its bytes in a file) among them', async () => {
    const r = await runSample(
      {
        prolific: { namespaces: { lab: { secrets: ["it's-a-secret"] } } },
        labvanced: { namespaces: { stroop: {} } },
      },
      [
        ['prolific', '--status', "it's APPROVED"],
        ['labvanced', '--route', 'file_upload'],
      ],
      { curl: true },
    );
    assert.deepEqual(r.codes, [0, 0], r.text);
    assert.equal(r.curlReplies.length, 2, r.text);
    for (const reply of r.curlReplies) assert.match(reply, /^HTTP\/1\.1 200 OK/, reply);
    assert.match(r.text, /--data-binary @'[^']+\.bin'/);
    const prolific = r.delivered.find((d) => d.event.platform === 'prolific')!;
    assert.equal(prolific.event.type, 'prolific.submission.status.change');
    assert.equal((prolific.event as Record<string, unknown>)['status'], "it's APPROVED");
    assert.equal(
      r.delivered.find((d) => d.event.platform === 'labvanced')!.event.type,
      'labvanced.file.uploaded',
    );
  });

  it('--status sets the Prolific status (APPROVED), and --all sends all four event types on labelled lines', async () => {
    const r = await runSample(
      { prolific: { namespaces: { lab: { secrets: ['sample-test-secret'] } } } },
      [
        ['prolific', '--status', 'APPROVED'],
        ['prolific', '--all'],
      ],
      { events: 5 },
    );
    assert.deepEqual(r.codes, [0, 0], r.text);
    const byType = (type: string) => r.delivered.filter((d) => d.event.type === type);
    assert.deepEqual(
      byType('prolific.submission.status.change')
        .map((d) => (d.event as Record<string, unknown>)['status'])
        .sort(),
      ['APPROVED', 'AWAITING REVIEW'],
    );
    for (const type of [
      'study.status.change',
      'study.progress.change',
      'study.has_high_return_rate',
    ])
      assert.equal(byType(`prolific.${type}`).length, 1, type);
    const all = r.lines.slice(1).map((l) => l.split('\n')[0]!);
    assert.deepEqual(
      all.map((l) => /^\[([^\]]+)\]/.exec(l)?.[1]),
      [
        'prolific submission.status.change',
        'prolific study.status.change',
        'prolific study.progress.change',
        'prolific study.has_high_return_rate',
      ],
    );
    assert.doesNotMatch(r.lines[0]!, /^\[/, 'a single request needs no label');
  });

  it('--all on ActiGraph labels the validation handshake apart from the upload', async () => {
    const r = await runSample(
      { actigraph: { namespaces: { cp: { auth: 'hmac', passcodes: ['sample-passcode'] } } } },
      [['actigraph', '--all']],
      { events: 1 },
    );
    assert.deepEqual(r.codes, [0], r.text);
    assert.match(
      r.lines[0]!,
      /^\[actigraph upload\] POST http:\/\/127\.0\.0\.1:\d+\/actigraph\/cp → 200 OK/,
    );
    assert.match(
      r.lines[1]!,
      /^\[actigraph validation handshake\] POST http:\/\/127\.0\.0\.1:\d+\/actigraph\/cp → 200 OK/,
    );
    assert.deepEqual(
      r.delivered.map((d) => d.event.type),
      ['actigraph.upload.completed'],
      'the handshake publishes nothing',
    );
  });

  it('--body FILE sends the file as the body, signed; an unknown event or a missing file is one line and exit 2', async () => {
    const body = JSON.stringify({
      event_type: 'study.status.change',
      resource_id: 'study-from-file',
      status: 'PAUSED',
    });
    const r = await runSample(
      { prolific: { namespaces: { lab: { secrets: ['sample-test-secret'] } } } },
      [['prolific', '--body', '$DIR/body.json']],
      { files: { 'body.json': body } },
    );
    assert.deepEqual(r.codes, [0], r.text);
    assert.equal(r.delivered[0]!.event.type, 'prolific.study.status.change');
    assert.equal(r.delivered[0]!.event.subject, 'study-from-file');
    const errors: string[] = [];
    const original = console.error;
    console.error = (...a: unknown[]) => {
      errors.push(a.join(' '));
    };
    try {
      assert.equal(await sample.run(['prolific', '--event', 'study.deleted']), 2);
      assert.equal(await sample.run(['prolific', '--body', '/nonexistent/body.json']), 2);
    } finally {
      console.error = original;
    }
    assert.match(
      errors[0]!,
      /^Unknown event 'study\.deleted' for prolific; events: submission\.status\.change, study\.status\.change/,
    );
    assert.equal(errors[1], 'studyhook sample: cannot read --body /nonexistent/body.json: ENOENT');
  });

  const signed: [string, Record<string, unknown>, string[][], string[]][] = [
    [
      'a Prolific event signed with the namespace secret',
      { prolific: { namespaces: { lab: { secrets: ['sample-test-secret'] } } } },
      [['prolific']],
      ['prolific.submission.status.change'],
    ],
    [
      'an ActiGraph upload signed with the passcode, and a validation handshake',
      { actigraph: { namespaces: { cp: { auth: 'hmac', passcodes: ['sample-passcode'] } } } },
      [['actigraph'], ['actigraph', '--event', 'validation']],
      ['actigraph.upload.completed'],
    ],
    [
      'every Labvanced route from the allowed origin, the upload as multipart',
      { labvanced: { namespaces: { stroop: {} } } },
      [['labvanced', '--all']],
      [
        'labvanced.trial.recorded',
        'labvanced.session.assigned',
        'labvanced.session.started',
        'labvanced.session.meta',
        'labvanced.task.started',
        'labvanced.session.finished',
        'labvanced.session.failed',
        'labvanced.file.uploaded',
      ],
    ],
    [
      'MyDataHelps callbacks on the token URL',
      { mydatahelps: { namespaces: { live: { tokens: ['0123456789abcdef0123'] } } } },
      [['mydatahelps', '--all']],
      ['mydatahelps.survey.submitted', 'mydatahelps.schedule.triggered'],
    ],
  ];
  for (const [what, platforms, args, types] of signed) {
    it(`sends ${what}, which the gateway accepts`, async () => {
      const r = await runSample(platforms, args, { events: types.length });
      assert.ok(
        r.codes.every((c) => c === 0),
        r.text,
      );
      assert.doesNotMatch(r.text, /→ [45]\d\d/);
      assert.deepEqual(new Set(r.delivered.map((d) => d.event.type)), new Set(types));
    });
  }
});
