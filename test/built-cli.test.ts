import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIsFresh } from './helpers/studyhook-cli.js';

const root = new URL('../', import.meta.url).pathname;

describe('the built CLI (node dist/src/cli.js, no tsx preloaded)', function () {
  this.timeout(300000);
  before(() => {
    // why: CI builds before it tests; a build as new as every source needs no second tsc run here.
    if (buildIsFresh()) return;
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
      { cwd: root, stdio: 'inherit' },
    );
  });

  it('loads a .ts sink that lives outside any "type": "module" package (Node 20 refused it as require(esm) in a cycle)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-built-'));
    await writeFile(
      join(dir, 'format.ts'),
      'export const line = (id: string): string => `got ${id}`;\n',
    );
    await writeFile(
      join(dir, 'my-sink.ts'),
      [
        "import type { Sink } from 'studyhook';",
        "import { line } from './format.ts';",
        "const sink: Sink = { name: 'mine', deliver(event) { console.log(line(event.id)); } };",
        'export default sink;',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'studyhook.yml'),
      'sinks:\n  - { name: mine, module: ./my-sink.ts }\n',
    );
    const r = spawnSync(process.execPath, [join(root, 'dist/src/cli.js'), 'check'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, STUDYHOOK_CONFIG: '' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /config OK .* 2 sink\(s\) loaded/);
  });
});
