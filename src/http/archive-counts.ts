import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What has been read of one archive file: up to `offset` (the end of its last whole line). */
interface FileCount {
  platform: string;
  namespace: string;
  offset: number;
  lines: number;
  hours: Map<string, number>;
  last: string;
}

export interface NamespaceCount {
  platform: string;
  namespace: string;
  events: number;
  last24h: number;
  lastReceived: string;
}

/**
 * Counts of the archive (`<archiveDir>/<platform>/<namespace>/<day>.jsonl`) per platform and
 * namespace and per hour received, for the dashboard. why incremental: each file is read from where
 * the last count stopped, so a refresh every few seconds reads only the lines added since, and a
 * large archive is read once per process. A line archived twice (see the filesystem sink) counts twice.
 */
export function createArchiveCounts(archiveDir: string) {
  const files = new Map<string, FileCount>();
  let running: Promise<void> | undefined;

  async function readFrom(path: string, f: FileCount, size: number): Promise<void> {
    let rest = '';
    for await (const chunk of createReadStream(path, {
      start: f.offset,
      end: size - 1,
      encoding: 'utf8',
    })) {
      const text = rest + (chunk as string);
      const cut = text.lastIndexOf('\n');
      if (cut < 0) {
        rest = text;
        continue;
      }
      for (const line of text.slice(0, cut).split('\n')) {
        if (line === '') continue;
        // why a pattern, not JSON.parse: the field is written by us at the top level, and data can be large.
        const at = /"receivedat":"([^"]+)"/.exec(line)?.[1];
        f.lines += 1;
        if (at === undefined) continue;
        const hour = at.slice(0, 13);
        f.hours.set(hour, (f.hours.get(hour) ?? 0) + 1);
        if (at > f.last) f.last = at;
      }
      f.offset += Buffer.byteLength(text.slice(0, cut + 1));
      rest = text.slice(cut + 1);
    }
  }

  async function refresh(): Promise<void> {
    const dirs = async (d: string) =>
      (await readdir(d, { withFileTypes: true }).catch(() => []))
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    for (const platform of await dirs(archiveDir)) {
      for (const namespace of await dirs(join(archiveDir, platform))) {
        const dir = join(archiveDir, platform, namespace);
        for (const name of (await readdir(dir).catch((): string[] => [])).filter((n) =>
          n.endsWith('.jsonl'),
        )) {
          const path = join(dir, name);
          const size = (await stat(path).catch(() => undefined))?.size ?? 0;
          let f = files.get(path);
          // A file that shrank was replaced (or cut back): count it again.
          if (!f || size < f.offset)
            files.set(
              path,
              (f = { platform, namespace, offset: 0, lines: 0, hours: new Map(), last: '' }),
            );
          if (size > f.offset) await readFrom(path, f, size);
        }
      }
    }
  }

  return {
    /** Reads what was appended since the last call (one read at a time; a caller during one waits for it). */
    update(): Promise<void> {
      running ??= refresh().finally(() => {
        running = undefined;
      });
      return running;
    },
    /** Per platform and namespace: events archived, those of the last 24 hours, the last one received. */
    namespaces(now = Date.now()): NamespaceCount[] {
      const since = new Date(now - 24 * 3600_000).toISOString().slice(0, 13);
      const out = new Map<string, NamespaceCount>();
      for (const f of files.values()) {
        const key = `${f.platform}/${f.namespace}`;
        const c = out.get(key) ?? {
          platform: f.platform,
          namespace: f.namespace,
          events: 0,
          last24h: 0,
          lastReceived: '',
        };
        c.events += f.lines;
        for (const [hour, n] of f.hours) if (hour >= since) c.last24h += n;
        if (f.last > c.lastReceived) c.lastReceived = f.last;
        out.set(key, c);
      }
      return [...out.values()].sort((a, b) =>
        `${a.platform}/${a.namespace}`.localeCompare(`${b.platform}/${b.namespace}`),
      );
    },
    /** Events received per hour and platform over the last `hours` hours, oldest first. */
    hourly(
      hours: number,
      now = Date.now(),
    ): { hours: string[]; platforms: Record<string, number[]> } {
      const labels = Array.from({ length: hours }, (_, i) =>
        new Date(now - (hours - 1 - i) * 3600_000).toISOString().slice(0, 13),
      );
      const index = new Map(labels.map((h, i) => [h, i]));
      const platforms: Record<string, number[]> = {};
      for (const f of files.values()) {
        for (const [hour, n] of f.hours) {
          const i = index.get(hour);
          if (i === undefined) continue;
          (platforms[f.platform] ??= new Array<number>(hours).fill(0))[i]! += n;
        }
      }
      return { hours: labels, platforms };
    },
  };
}
