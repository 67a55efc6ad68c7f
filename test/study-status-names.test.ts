import assert from 'node:assert/strict';
import { join } from 'node:path';
import { study } from '../src/commands/study.js';
import { actigraph, studyPlatforms, waitArchived } from './fixtures/export/drive-study.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/run-cli.js';

/**
 * A platform's status is its data: ActiGraph's upload `status` is any string. `study status` counts
 * statuses by name, so names like `__proto__` and `constructor` must count like any other.
 */
describe('studyhook study status: statuses named like prototype properties', function () {
  this.timeout(60000);
  let t: TestGateway;
  const NAMES = ['__proto__', 'constructor', 'tostring', 'hasownproperty'];

  before(async () => {
    t = await startGateway({
      platforms: studyPlatforms(['names']),
      studies: { names: { namespaces: { actigraph: 'names' } } },
    });
    for (const [i, status] of NAMES.entries())
      await actigraph(t, 'names', `delivery-${i}`, {
        status,
        uploadId: `upload-${i}`,
        studyId: '8',
        subjectId: `SUBJ-${i}`,
      });
    await waitArchived(t, NAMES.length);
  });
  after(async () => {
    await t?.close();
  });

  it('counts each once, as its own key', async () => {
    const r = await runCli(study, [
      'status',
      'names',
      '--format',
      'json',
      '--config',
      join(t.dataDir, 'studyhook.yml'),
    ]);
    assert.equal(r.code, 0, r.err);
    const got = JSON.parse(r.out) as { statuses: Record<string, Record<string, number>> };
    assert.deepEqual(
      Object.entries(got.statuses['actigraph']!),
      NAMES.map((n) => [n, 1]),
      r.out,
    );
  });
});
