import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  jobCount,
  labvancedUpload,
  leftovers,
  LABVANCED_ORIGIN,
  multipartBody,
  rawPost,
  requestHead,
  type Part,
} from './helpers/multipart.js';
import { type Studyhook } from './helpers/processes.js';
import { startUploadGateway, type UploadGateway } from './helpers/upload-gateway.js';

const B = 'cs1';
const PATH = '/labvanced/x/file_upload';
const SINK = 'rec';

/**
 * A part's own `Content-Type: text/plain; charset=<label>` with a label TextDecoder does not know:
 * busboy then emits the field with no value at all, and the gateway read its length inside busboy's
 * write, where nothing catches it. A process of its own, since that ended the process.
 */
describe('multipart field in a charset nobody can decode: answered, nothing kept, the gateway stays up', function () {
  this.timeout(60000);
  let dir: string;
  let port: number;
  let prefix: string;
  let gw: Studyhook;

  let g: UploadGateway;
  const healthy = (): Promise<boolean> => g.healthy();

  before(async () => {
    g = await startUploadGateway('charset', SINK);
    ({ dir, port, prefix, gw } = g);
  });
  after(async () => {
    await g?.close();
  });

  async function post(parts: readonly Part[]) {
    const body = multipartBody(B, parts);
    const reply = await rawPost(port, requestHead(PATH, B, body.length, randomUUID()), body);
    return reply;
  }

  for (const [where, parts] of [
    [
      'before the file',
      [
        {
          raw: 'Content-Disposition: form-data; name="expSessionNr"\r\nContent-Type: text/plain; charset=x-no-such-charset',
          value: '42',
        },
        ...labvancedUpload('42', 'a.webm', 'recording').slice(1),
      ],
    ],
    [
      'after the file (its blob already written)',
      [
        ...labvancedUpload('43', 'b.webm', 'recording').reverse(),
        {
          raw: 'Content-Disposition: form-data; name="note"\r\nContent-Type: text/plain; charset=x-no-such-charset',
          value: 'hi',
        },
      ],
    ],
  ] as const)
    it(`answers 400 SH_BAD_BODY to such a field ${where}, keeps no file, and takes the next upload`, async () => {
      const before = await jobCount(prefix, SINK);
      const reply = await post(parts);
      assert.ok(reply, `no reply; the gateway said:\n${gw.output().slice(-1500)}`);
      assert.equal(reply.status, 400, reply.body);
      assert.equal(JSON.parse(reply.body).code, 'SH_BAD_BODY');
      assert.equal(reply.headers['access-control-allow-origin'], LABVANCED_ORIGIN);
      assert.equal(gw.proc.exitCode, null, `the gateway exited:\n${gw.output().slice(-1500)}`);
      assert.ok(await healthy(), '/healthz does not answer');
      const left = await leftovers(dir, prefix, SINK);
      assert.deepEqual(left.partials, [], 'partial files left');
      assert.deepEqual(left.orphans, [], 'blobs nothing refers to');
      assert.equal(await jobCount(prefix, SINK), before, 'a job was queued');

      const ok = await post(labvancedUpload(`ok-${where.length}`, 'ok.webm', randomUUID()));
      assert.equal(ok?.status, 200, ok?.body);
      assert.equal(await jobCount(prefix, SINK), before + 1, 'the valid upload was not queued');
    });
});
