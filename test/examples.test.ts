import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import ts from 'typescript';
import { startGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const root = new URL('../', import.meta.url).pathname;
const examples = join(root, 'examples', 'sinks');

describe('plugin author kit: the example sinks', () => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('loads the JS and the TS example through the real loader and delivers an event to each', async () => {
    t = await startGateway({
      archive: false,
      sinks: [
        {
          name: 'log-uploads',
          module: join(examples, 'log-uploads.js'),
          options: { prefix: 'received' },
          filter: { types: ['sensorlogger.*'] },
        },
        {
          name: 'participant-log',
          module: join(examples, 'participant-log.ts'),
          options: { file: 'out/participants.csv' },
        },
      ],
    });
    await request(t.gateway.app!)
      .post('/sensorlogger/lab')
      .send({ studyId: 'study-1', uploadId: 'up-"1"', secretCode: 'c' })
      .expect(200);
    const csv = await waitFor('the CSV row', () =>
      readFile(join(t!.dataDir, 'out', 'participants.csv'), 'utf8').catch(() => ''),
    );
    assert.match(
      csv,
      /^"[^"]+","sensorlogger\.recording\.uploaded","lab","study-1","","up-""1"""\n$/,
    );
    await waitFor('the log line', () =>
      t!.logs.some((l) => l.includes('"msg":"received: sensorlogger.recording.uploaded"')),
    );
  });

  it("type-checks the TS example against the package's exported types (import type { Sink } from 'studyhook'), and the platform clients' subpaths", async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'studyhook-kit-'));
    try {
      // The package as a plugin author installs it, resolved through its real `exports` map. Its
      // `types` point at the declarations that `npm run build` emits from src/. When the build is as
      // new as the sources (test/helpers/studyhook-cli.ts; CI builds first) those are read; else
      // they are read from their source, so that one in-process compile checks the example
      // instead of a declaration build and two tsc runs.
      const built = process.env['STUDYHOOK_TEST_BUILT'] === '1';
      const pkg = join(tmp, 'pkg');
      await mkdir(pkg);
      const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
        exports: Record<string, { types: string }>;
      };
      if (!built)
        for (const entry of Object.values(manifest.exports))
          entry.types = entry.types.replace(/^\.\/dist\//, './').replace(/\.d\.ts$/, '.ts');
      await writeFile(join(pkg, 'package.json'), JSON.stringify(manifest));
      for (const d of ['src', 'adapters', 'schemas', 'node_modules', ...(built ? ['dist'] : [])])
        await symlink(join(root, d), join(pkg, d));
      const app = join(tmp, 'app');
      await mkdir(join(app, 'node_modules', '@types'), { recursive: true });
      await symlink(pkg, join(app, 'node_modules', 'studyhook'));
      await symlink(
        join(root, 'node_modules', '@types', 'node'),
        join(app, 'node_modules', '@types', 'node'),
      );
      await writeFile(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
      // The platform clients' types and errors, from the package's subpaths (`studyhook/prolific`, ...).
      const clients = join(app, 'clients.ts');
      await writeFile(
        clients,
        [
          "import { isStale, ProlificApiError, type ProlificClient } from 'studyhook/prolific';",
          "import { ActiGraphApiError, type ActiGraphClient } from 'studyhook/actigraph';",
          "import type { SensorLoggerClient } from 'studyhook/sensorlogger';",
          "import type { MyDataHelpsClient } from 'studyhook/mydatahelps';",
          'export const errors = [ProlificApiError, ActiGraphApiError, isStale];',
          "export type Clients = [ProlificClient['getSubmission'], ActiGraphClient, SensorLoggerClient['download'], MyDataHelpsClient];",
        ].join('\n'),
      );
      const example = join(app, 'participant-log.ts');
      await copyFile(join(examples, 'participant-log.ts'), example);
      // ...and a wrong sink next to it, which must be refused, so the check has teeth.
      const wrong = join(app, 'wrong-sink.ts');
      await writeFile(
        wrong,
        "import type { Sink } from 'studyhook';\nconst s: Sink = { name: 'x', deliver(e) { const n: number = e.type; void n; } };\nexport default s;\n",
      );
      const program = ts.createProgram([example, clients, wrong], {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        resolveJsonModule: true,
        esModuleInterop: true,
      });
      const problems = (file: string) => {
        const sf = program.getSourceFile(file)!;
        return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map(
          (d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'),
        );
      };
      assert.deepEqual(problems(example), []);
      assert.deepEqual(problems(clients), []);
      assert.deepEqual(problems(wrong), ["Type 'string' is not assignable to type 'number'."]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
