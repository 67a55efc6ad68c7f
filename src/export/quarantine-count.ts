import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Newlines in a file, read as a stream (a quarantine file can hold payloads of many megabytes). */
async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file))
    for (const byte of chunk as Buffer) if (byte === 10) n += 1;
  return n;
}

/** How many quarantined payloads the namespace has, over every platform or the given ones (`<dataDir>/quarantine/<platform>/<namespace>/`). */
export async function quarantineCount(
  dataDir: string,
  namespace: string,
  platforms?: readonly string[],
): Promise<number> {
  const root = join(dataDir, 'quarantine');
  let n = 0;
  for (const platform of platforms ?? (await readdir(root).catch(() => [] as string[]))) {
    const dir = join(root, platform, namespace);
    for (const f of await readdir(dir).catch(() => [] as string[]))
      if (f.endsWith('.jsonl')) n += await countLines(join(dir, f));
  }
  return n;
}
