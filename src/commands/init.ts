import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exampleSink, starterConfig, starterEnv } from '../init/starter-files.js';
import { defineCommand } from '../command.js';
import { runAsNpmScript } from '../config/npm-script.js';

const USAGE = `Usage: studyhook init [DIR]

Writes a starter set-up into DIR (default: the current directory): a commented studyhook.yml with one
namespace on each of the five platforms, a .env with freshly generated secrets and tokens, and
sinks/example-sink.ts. An existing file is never overwritten.`;

/** Writes `text` unless the file exists; true when written. */
async function create(file: string, text: string, mode: number): Promise<boolean> {
  try {
    await writeFile(file, text, { flag: 'wx', mode });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export const init = defineCommand({
  name: 'init',
  summary:
    'write a starter studyhook.yml (all five platforms), .env with fresh secrets, and an example sink: init [DIR]',
  usage: USAGE,
  async run(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
    if (positionals.length > 1) {
      console.error(USAGE);
      return 2;
    }
    const dir = resolve(positionals[0] ?? '.');
    await mkdir(join(dir, 'sinks'), { recursive: true });
    const files: [string, string, number][] = [
      ['studyhook.yml', starterConfig(), 0o644],
      // why: 0600, it holds every secret of the deployment.
      ['.env', starterEnv(), 0o600],
      [join('sinks', 'example-sink.ts'), exampleSink, 0o644],
    ];
    for (const [name, text, mode] of files) {
      const written = await create(join(dir, name), text, mode);
      console.log(
        written ? `wrote ${join(dir, name)}` : `kept ${join(dir, name)} (exists; not overwritten)`,
      );
    }
    const cd = relative(process.cwd(), dir);
    // why: in a checkout there is no `studyhook` on the PATH; the commands go through npm there.
    const cli = runAsNpmScript() ? 'npm run studyhook --' : 'studyhook';
    const next = [
      ['check', 'validate the config and load the sinks'],
      ['start', 'run the gateway; it prints the URL to register on each platform'],
      ['sample prolific', 'in another terminal: send a signed test event (any platform)'],
    ];
    console.log(
      `\nNext (Redis must run on 127.0.0.1:6379, or set REDIS_URL):\n${cd ? `  cd ${cd}\n` : ''}${next
        .map(([c, what]) => `  ${`${cli} ${c}`.padEnd(cli.length + 22)} # ${what}`)
        .join('\n')}`,
    );
    return 0;
  },
});
