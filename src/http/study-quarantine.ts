import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { QuarantineRecord } from '../quarantine/quarantine.js';
import { readJsonLines } from '../util/read-lines.js';

/** One quarantined payload as the study page lists it. */
export interface QuarantineItem {
  platform: string;
  namespace: string;
  receivedat: string;
  route: string;
  reason: string;
  problems: string[];
  requestid: string;
  where: string;
}

/** The newest `limit` quarantined payloads of the study's namespaces (`<dataDir>/quarantine/<platform>/<ns>/*.jsonl`). */
export async function readQuarantine(
  dataDir: string,
  namespaces: Record<string, string>,
  limit = 500,
): Promise<QuarantineItem[]> {
  const out: QuarantineItem[] = [];
  for (const [platform, ns] of Object.entries(namespaces)) {
    const dir = join(dataDir, 'quarantine', platform, ns);
    for (const f of (await readdir(dir).catch((): string[] => []))
      .filter((x) => x.endsWith('.jsonl'))
      .sort()) {
      // why: a torn line is skipped here; `studyhook quarantine list` names it.
      for await (const { value: r, line } of readJsonLines<QuarantineRecord>(
        join(dir, f),
        () => undefined,
      )) {
        out.push({
          platform,
          namespace: ns,
          receivedat: String(r.receivedat),
          route: String(r.route),
          reason: r.reason ?? 'invalid',
          problems: (r.problems ?? []).map((p) => `${p.path} ${p.message}`),
          requestid: String(r.requestid),
          where: `${platform}/${ns}/${f}:${line.number}`,
        });
      }
    }
  }
  return out.sort((a, b) => b.receivedat.localeCompare(a.receivedat)).slice(0, limit);
}
