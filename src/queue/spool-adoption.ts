import { hostname } from 'node:os';
import { readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** `<hostname>-<pid>.jsonl`: one journal per process, so several API processes may share a data directory. */
export function journalName(pid = process.pid): string {
  return `${safeHost()}-${pid}.jsonl`;
}

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** True when the process `pid` of this host is gone, or is this process itself under a reused pid. */
function deadOrMe(pid: number): boolean {
  // why: one with our own pid is a predecessor's (containers often run as pid 1 every time).
  return pid === process.pid || !alive(pid);
}

export interface Orphans {
  /** Journals this process now owns (renamed to `….adopted-<our pid>`), oldest name first. */
  adopted: string[];
  /** Non-empty journals of other hosts: they are drained by their own host when it restarts. */
  foreign: { name: string; bytes: number }[];
}

/**
 * Takes over the journals of dead processes on this host: a process's own journal
 * (`<host>-<pid>.jsonl`) and one that a dead process had adopted but not finished
 * (`<host>-<pid>.jsonl.adopted-<adopter>`). Claiming is a rename, so of two processes starting at
 * once only one gets each file. A live sibling's journal, or one it is draining, is left alone.
 */
export async function adoptOrphans(dir: string): Promise<Orphans> {
  const host = safeHost().replace(/[.]/g, '\\.');
  const own = new RegExp(`^(${host}-(\\d+)\\.jsonl)$`);
  const readopt = new RegExp(`^(${host}-\\d+\\.jsonl)\\.adopted-(\\d+)$`);
  const any = /^(.+-\d+\.jsonl)(\.adopted-\d+)?$/;
  const adopted: string[] = [];
  const foreign: Orphans['foreign'] = [];
  for (const name of (await readdir(dir)).sort()) {
    const m = own.exec(name) ?? readopt.exec(name);
    if (!m) {
      if (any.test(name)) {
        const bytes = (await stat(join(dir, name)).catch(() => undefined))?.size ?? 0;
        if (bytes > 0) foreign.push({ name, bytes });
      }
      continue;
    }
    if (!deadOrMe(Number(m[2]))) continue;
    const claimed = join(dir, `${m[1]}.adopted-${process.pid}`);
    if (join(dir, name) === claimed) { adopted.push(claimed); continue; }
    try { await rename(join(dir, name), claimed); adopted.push(claimed); } catch { /* another process took it */ }
  }
  return { adopted, foreign };
}
