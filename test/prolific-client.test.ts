import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createProlificClient, ProlificApiError } from '../adapters/prolific/client.js';
import { PermanentError } from '../src/sinks/types.js';
import { startFakeProlific, type FakeProlific } from './helpers/fake-prolific.js';
import { runMainCli } from './helpers/run-main.js';

/** The real CLI, in this process (the fake API in this process keeps answering while it awaits). */
async function run(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const r = await runMainCli(args);
  return { status: r.code, stdout: r.out, stderr: r.err };
}

describe('Prolific API client for sinks (against a fake Prolific API)', () => {
  let fake: FakeProlific;
  beforeEach(async () => {
    fake = await startFakeProlific();
    fake.submissions.set('sub1', {
      id: 'sub1',
      status: 'AWAITING REVIEW',
      study_id: 'st1',
      participant: 'p1',
    });
  });
  afterEach(async () => {
    await fake.close();
  });
  const client = () =>
    createProlificClient({ baseUrl: `${fake.baseUrl}/`, token: fake.token, backoffMs: 10 });

  it('reads a submission and a study with Token auth on the versioned, trailing-slash paths', async () => {
    assert.equal((await client().getSubmission('sub1'))['status'], 'AWAITING REVIEW');
    assert.equal((await client().getStudy('st1'))['id'], 'st1');
    assert.deepEqual(
      fake.requests.map((r) => r.path),
      ['/api/v1/submissions/sub1/', '/api/v1/studies/st1/'],
    );
  });

  it('approves and rejects a submission with the documented bodies, and bulk-approves', async () => {
    assert.equal(
      (await client().transitionSubmission('sub1', { action: 'APPROVE' }))['status'],
      'APPROVED',
    );
    const message =
      'The completion code you entered does not match the one shown at the end of the study, so we cannot accept it.';
    assert.equal(
      (
        await client().transitionSubmission('sub1', {
          action: 'REJECT',
          message,
          rejection_category: 'BAD_CODE',
        })
      )['status'],
      'REJECTED',
    );
    assert.throws(
      () =>
        client().transitionSubmission('sub1', {
          action: 'REJECT',
          message: 'too short',
          rejection_category: 'OTHER',
        }),
      /100 characters/,
    );
    await client().bulkApprove({ submission_ids: ['sub1'] });
    assert.deepEqual(fake.requests.at(-1), {
      method: 'POST',
      path: '/api/v1/submissions/bulk-approve/',
      body: { submission_ids: ['sub1'] },
    });
  });

  it('backs off on 429, honouring Retry-After, then succeeds', async () => {
    fake.throttle(2, '0');
    assert.equal((await client().getSubmission('sub1'))['id'], 'sub1');
    assert.equal(fake.requests.length, 3);
    fake.throttle(1);
    assert.equal((await client().getSubmission('sub1'))['id'], 'sub1');
  });

  it('reads a Retry-After in decimal seconds as seconds, and gives up at once past a minute', async () => {
    fake.throttle(1, '120.5');
    const before = fake.requests.length;
    const busy = await client()
      .getSubmission('sub1')
      .catch((e: unknown) => e);
    assert.ok(busy instanceof ProlificApiError && busy.status === 429);
    assert.equal(fake.requests.length - before, 1, 'not retried at once');
  });

  it('refuses a plain-http base URL except on loopback (the token goes with every call)', () => {
    assert.throws(
      () => createProlificClient({ baseUrl: 'http://api.prolific.com', token: 't' }),
      /must be an https/,
    );
    assert.throws(
      () => createProlificClient({ baseUrl: 'http://localhost.evil.example', token: 't' }),
      /must be an https/,
    );
    createProlificClient({ baseUrl: 'http://127.0.0.1:9/', token: 't' });
    createProlificClient({ baseUrl: 'https://api.prolific.com', token: 't' });
  });

  it('throws a permanent ProlificApiError on 4xx and a retryable one when 429s do not stop', async () => {
    const missing = await client()
      .getSubmission('nope')
      .catch((e: unknown) => e);
    assert.ok(missing instanceof ProlificApiError);
    assert.equal(missing.status, 404);
    assert.ok(missing instanceof PermanentError, 'a sink that lets it escape is not retried');
    fake.throttle(10, '0');
    const busy = await createProlificClient({
      baseUrl: fake.baseUrl,
      token: fake.token,
      maxAttempts: 3,
    })
      .getStudy('s')
      .catch((e: unknown) => e);
    assert.ok(busy instanceof ProlificApiError && busy.status === 429);
    assert.ok(!(busy instanceof PermanentError));
    await assert.rejects(
      createProlificClient({ baseUrl: fake.baseUrl, token: 'wrong' }).getStudy('s'),
      (e: unknown) => e instanceof ProlificApiError && e.status === 401,
    );
  });
});

describe('Prolific API client against an API that never answers', () => {
  it('gives up after timeoutMs with an error naming the call, instead of waiting for minutes', async () => {
    // Accepts the connection and reads the request, but never answers (a hung API or proxy).
    const held: ServerResponse[] = [];
    const server = createServer((_req, res) => void held.push(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const api = createProlificClient({
      baseUrl: `http://127.0.0.1:${port}`,
      token: 'secret-token-never-printed',
      timeoutMs: 300,
    });
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        api.bulkApprove({ submission_ids: ['s1'] }).then(
          () => 'answered',
          (e: Error) => e,
        ),
        new Promise<string>((r) => (timer = setTimeout(() => r('still waiting after 5 s'), 5000))),
      ]);
      assert.ok(outcome instanceof Error, String(outcome));
      assert.match(
        outcome.message,
        /Prolific API POST \/api\/v1\/submissions\/bulk-approve\/ did not answer within 300 ms/,
      );
      assert.doesNotMatch(outcome.message, /secret-token/);
      assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
    } finally {
      clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('studyhook prolific subscribe / list / unsubscribe (against a fake Prolific API)', () => {
  let fake: FakeProlific;
  beforeEach(async () => {
    fake = await startFakeProlific();
  });
  afterEach(async () => {
    await fake.close();
  });
  const common = () => ['--workspace', 'ws1', '--token', fake.token, '--base-url', fake.baseUrl];

  it('creates the workspace secret, subscribes and confirms every event type, and prints the config', async () => {
    const r = await run([
      'prolific',
      'subscribe',
      ...common(),
      '--url',
      'https://hooks.example.org/',
      '--namespace',
      'lab',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const secret = fake.secrets.get('ws1')!.value;
    const subs = [...fake.subscriptions.values()];
    assert.deepEqual(subs.map((s) => s.event_type).sort(), [
      'study.has_high_return_rate',
      'study.progress.change',
      'study.status.change',
      'submission.status.change',
    ]);
    for (const s of subs) {
      assert.equal(s.target_url, 'https://hooks.example.org/prolific/lab');
      assert.equal(s.is_enabled, true, 'confirmed with the X-Hook-Secret of its create response');
    }
    assert.ok(r.stdout.includes(`PROLIFIC_WEBHOOK_SECRET='${secret}'`));
    assert.match(r.stdout, /lab:\n\s+secrets: \["\$\{PROLIFIC_WEBHOOK_SECRET\}"\]/);

    // Again, with the CLI's single-object create answer: the existing secret is kept, nothing is duplicated.
    fake.createShape = 'object';
    const again = await run([
      'prolific',
      'subscribe',
      ...common(),
      '--url',
      'https://hooks.example.org',
      '--namespace',
      'lab',
      '--event',
      'study.status.change',
      '--event',
      'participant.submission.created',
    ]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(fake.secrets.get('ws1')!.value, secret);
    assert.equal(fake.subscriptions.size, 5);
    assert.ok([...fake.subscriptions.values()].every((s) => s.is_enabled));
    assert.match(again.stderr, /already subscribed: study\.status\.change/);

    const list = await run(['prolific', 'list', ...common()]);
    assert.equal(list.stdout.trim().split('\n').length, 5);
    assert.match(
      list.stdout,
      /enabled\s+participant\.submission\.created\s+https:\/\/hooks\.example\.org\/prolific\/lab/,
    );

    const one = [...fake.subscriptions.values()][0]!.id;
    assert.equal((await run(['prolific', 'unsubscribe', ...common(), '--id', one])).status, 0);
    assert.equal(fake.subscriptions.size, 4);
    const rest = await run([
      'prolific',
      'unsubscribe',
      ...common(),
      '--url',
      'https://hooks.example.org',
      '--namespace',
      'lab',
    ]);
    assert.equal(rest.status, 0, rest.stderr);
    assert.equal(fake.subscriptions.size, 0);
    assert.equal((rest.stdout.match(/^deleted /gm) ?? []).length, 4);
  });

  it('uses a given secret without creating one, takes the token from the config, and refuses a non-https URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-prolific-'));
    try {
      const config = join(dir, 'c.yml');
      await writeFile(
        config,
        `platforms:\n  prolific:\n    client: { token: "${fake.token}", baseUrl: "${fake.baseUrl}" }\n`,
      );
      fake.secrets.set('ws1', { id: 's', value: 'already-there', workspace_id: 'ws1' });
      const r = await run([
        'prolific',
        'subscribe',
        '--config',
        config,
        '--workspace',
        'ws1',
        '--url',
        'https://gw.example.org',
        '--secret',
        'given-secret',
        '--event',
        'study.status.change',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(
        !fake.requests.some((q) => q.path.startsWith('/api/v1/hooks/secrets/')),
        'no secret call',
      );
      assert.ok(r.stdout.includes(`PROLIFIC_WEBHOOK_SECRET='given-secret'`));
      assert.equal(
        [...fake.subscriptions.values()][0]!.target_url,
        'https://gw.example.org/prolific/default',
      );
      const http = await run([
        'prolific',
        'subscribe',
        '--config',
        config,
        '--workspace',
        'ws1',
        '--url',
        'http://gw.example.org',
      ]);
      assert.equal(http.status, 2);
      assert.match(http.stderr, /https:\/\//);
      assert.equal((await run(['prolific', 'subscribe'])).status, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
