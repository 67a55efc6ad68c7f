import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How many quarantined payloads the namespace has, over every platform (`<dataDir>/quarantine/<platform>/<namespace>/`). */
export async function quarantineCount(dataDir: string, namespace: string): Promise<number> {
  const root = join(dataDir, 'quarantine');
  let n = 0;
  for (const platform of await readdir(root).catch(() => [] as string[])) {
    const dir = join(root, platform, namespace);
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      if (!f.endsWith('.jsonl')) continue;
      n += (await readFile(join(dir, f), 'utf8')).split('\n').filter((l) => l.trim()).length;
    }
  }
  return n;
}
