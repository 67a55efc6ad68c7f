import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { startGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const root = new URL('../', import.meta.url).pathname;
const examples = join(root, 'examples', 'sinks');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const run = promisify(execFile);

describe('plugin author kit: the example sinks', () => {
  let t: TestGateway | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it('loads the JS and the TS example through the real loader and delivers an event to each', async () => {
    t = await startGateway({ archive: false, sinks: [
      { name: 'log-uploads', module: join(examples, 'log-uploads.js'), options: { prefix: 'received' }, filter: { types: ['sensorlogger.*'] } },
      { name: 'participant-log', module: join(examples, 'participant-log.ts'), options: { file: 'out/participants.csv' } },
    ] });
    await request(t.gateway.app!).post('/sensorlogger/lab').send({ studyId: 'study-1', uploadId: 'up-"1"', secretCode: 'c' }).expect(200);
    const csv = await waitFor('the CSV row', () => readFile(join(t!.dataDir, 'out', 'participants.csv'), 'utf8').catch(() => ''));
    assert.match(csv, /^"[^"]+","sensorlogger\.recording\.uploaded","lab","study-1","","up-""1"""\n$/);
    await waitFor('the log line', () => t!.logs.some((l) => l.includes('"msg":"received: sensorlogger.recording.uploaded"')));
  });

  it("type-checks the TS example against the package's exported types (import type { Sink } from 'studyhook'), and the platform clients' subpaths", async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'studyhook-kit-'));
    try {
      // The package as a plugin author installs it: package.json (its `exports`) and the built declarations.
      const pkg = join(tmp, 'pkg');
      await mkdir(pkg);
      await copyFile(join(root, 'package.json'), join(pkg, 'package.json'));
      await symlink(join(root, 'node_modules'), join(pkg, 'node_modules'));
      await run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--emitDeclarationOnly', '--declarationMap', 'false', '--sourceMap', 'false', '--outDir', join(pkg, 'dist')]);
      const app = join(tmp, 'app');
      await mkdir(join(app, 'node_modules', '@types'), { recursive: true });
      await symlink(pkg, join(app, 'node_modules', 'studyhook'));
      await symlink(join(root, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'));
      await copyFile(join(examples, 'participant-log.ts'), join(app, 'participant-log.ts'));
      await writeFile(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
      // The platform clients' types and errors, from the package's subpaths (`studyhook/prolific`, ...).
      await writeFile(join(app, 'clients.ts'), [
        "import { isStale, ProlificApiError, type ProlificClient } from 'studyhook/prolific';",
        "import { ActiGraphApiError, type ActiGraphClient } from 'studyhook/actigraph';",
        "import type { SensorLoggerClient } from 'studyhook/sensorlogger';",
        "import type { MyDataHelpsClient } from 'studyhook/mydatahelps';",
        'export const errors = [ProlificApiError, ActiGraphApiError, isStale];',
        "export type Clients = [ProlificClient['getSubmission'], ActiGraphClient, SensorLoggerClient['download'], MyDataHelpsClient];",
      ].join('\n'));
      await writeFile(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['participant-log.ts', 'clients.ts'] }));
      await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')]).catch((err: { stdout: string }) => assert.fail(`tsc: ${err.stdout}`));
      // ...and a wrong sink is refused, so the check has teeth.
      await writeFile(join(app, 'participant-log.ts'), "import type { Sink } from 'studyhook';\nconst s: Sink = { name: 'x', deliver(e) { const n: number = e.type; void n; } };\nexport default s;\n");
      await assert.rejects(run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')]), (err: { stdout: string }) => { assert.match(err.stdout, /Type 'string' is not assignable to type 'number'/); return true; });
    } finally { await rm(tmp, { recursive: true, force: true }); }
  });
});
