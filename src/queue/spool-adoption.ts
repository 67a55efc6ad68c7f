import { hostname } from 'node:os';
import { lstat, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `<hostname>-<pid>.jsonl`: one journal per process, so several API processes may share a data directory. */
export function journalName(pid = process.pid): string {
  return `${ownerName(pid)}.jsonl`;
}

/** `<hostname>-<pid>`: names a process across the hosts that share a spool directory. */
export function ownerName(pid = process.pid): string {
  return `${safeHost()}-${pid}`;
}

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the process `pid` of this host is gone, or is this process itself under a reused pid. */
function deadOrMe(pid: number): boolean {
  // why: one with our own pid is a predecessor's (containers often run as pid 1 every time).
  return pid === process.pid || !alive(pid);
}

/**
 * A journal's file name: `<host>-<pid>.jsonl`, or one adopted by another process, `….adopted-<pid>`
 * (same host, earlier versions) or `….adopted-<host>-<pid>`, with `~<n>` when that name was taken.
 * Its owner is the adopter when there is one.
 */
const JOURNAL = /^((.+)-(\d+)\.jsonl)(?:\.adopted-(?:(.+)-)?(\d+)(?:~\d+)?)?$/;

/** Writes this process's heartbeat `<host>-<pid>.alive` (a counter), which processes on other hosts watch. */
export async function beat(dir: string, count: number): Promise<void> {
  await writeFile(join(dir, `${ownerName()}.alive`), `${count}\n`, { mode: 0o600 });
}

/** Removes this process's heartbeat (a clean stop). */
export async function stopBeating(dir: string): Promise<void> {
  await unlink(join(dir, `${ownerName()}.alive`)).catch(() => undefined);
}

/**
 * What a process has seen of other hosts' heartbeats: the last value and when (its own monotonic
 * clock) it changed. why: hosts' clocks are never compared; a heartbeat that stays the same for
 * `staleMs` of the watcher's own time means its writer is gone.
 */
export type HeartbeatWatch = Map<string, { value: string; since: number }>;

export interface Orphans {
  /** Journals this process now owns (renamed to `….adopted-<host>-<pid>`), oldest name first. */
  adopted: string[];
  /** Non-empty journals of other hosts whose writer still beats, or has not been silent for long enough. */
  foreign: { name: string; bytes: number }[];
}

/**
 * Takes over the journals of processes that are gone, so that a live process drains them:
 * on this host, those of dead pids (at once); on another host sharing the directory, those whose
 * owner's heartbeat has not changed for `staleMs` of this process's watching (`watch` remembers
 * between calls; without it, other hosts' journals are left alone). Claiming is a rename, so of
 * two processes only one gets each file, and an owner that comes back finds its journal moved and
 * starts a new one (see createSpoolingPublisher). Names in `skip` (this process's own journal once
 * it writes it, journals it is draining already) are left as they are.
 */
export async function adoptOrphans(
  dir: string,
  watch?: HeartbeatWatch,
  staleMs = 60_000,
  skip: ReadonlySet<string> = new Set(),
): Promise<Orphans> {
  const me = safeHost();
  const adopted: string[] = [];
  const foreign: Orphans['foreign'] = [];
  const now = performance.now();
  for (const name of (await readdir(dir)).sort()) {
    const beat = /^(.+)-(\d+)\.alive$/.exec(name);
    // why: a heartbeat of a dead process on this host (one killed with nothing spooled) is litter.
    if (beat && beat[1] === me && Number(beat[2]) !== process.pid && !alive(Number(beat[2])))
      await unlink(join(dir, name)).catch(() => undefined);
    const m = skip.has(name) ? null : JOURNAL.exec(name);
    if (!m) continue;
    const [, original, host, pid, adopterHost, adopterPid] = m;
    const ownerHost = adopterPid === undefined ? host! : (adopterHost ?? host!);
    const ownerPid = Number(adopterPid ?? pid);
    let gone: boolean;
    if (ownerHost === me) gone = deadOrMe(ownerPid);
    else {
      const owner = `${ownerHost}-${ownerPid}`;
      const value = await readFile(join(dir, `${owner}.alive`), 'utf8').catch(() => '');
      const seen = watch?.get(owner);
      if (watch && (!seen || seen.value !== value)) watch.set(owner, { value, since: now });
      gone =
        watch !== undefined &&
        seen !== undefined &&
        seen.value === value &&
        now - seen.since >= staleMs;
      if (!gone) {
        const bytes = (await stat(join(dir, name)).catch(() => undefined))?.size ?? 0;
        if (bytes > 0) foreign.push({ name, bytes });
        continue;
      }
    }
    if (!gone) continue;
    // why: a journal already adopted under this process's name (an earlier process with this host
    // and pid, as a restarted container's pid 1 is) is this process's to drain as it is.
    if (adopterPid !== undefined && `${ownerHost}-${ownerPid}` === ownerName()) {
      adopted.push(join(dir, name));
      continue;
    }
    // why: rename replaces its target, and such an earlier process may have left a journal under the
    // name this one claims; only a process with this host and pid makes these names, so a free one stays free.
    const base = join(dir, `${original!}.adopted-${ownerName()}`);
    let claimed = base;
    for (let n = 1; await exists(claimed); n++) claimed = `${base}~${n}`;
    try {
      await rename(join(dir, name), claimed);
      adopted.push(claimed);
    } catch {
      /* another process took it */
    }
    if (`${ownerHost}-${ownerPid}` !== ownerName())
      await unlink(join(dir, `${ownerHost}-${ownerPid}.alive`)).catch(() => undefined);
  }
  return { adopted, foreign };
}
