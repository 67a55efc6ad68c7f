// Caps a process's CPU with a cgroup (Linux, as root): each capped process gets its own group with a
// CFS quota of `cores`. On a 2-core machine this leaves room for N processes, so the scale-out rows can
// show whether N processes add up, which uncapped processes on full cores cannot.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const V1 = '/sys/fs/cgroup/cpu';
const V2 = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

export interface CpuCap {
  release(): void;
}

/** Puts each pid in its own group capped at `cores`; throws with the reason when the machine does not allow it. */
export function capCpu(pids: readonly number[], cores: number, tag: string): CpuCap {
  const quota = Math.round(cores * PERIOD_US);
  const v1 = existsSync(join(V1, 'cpu.cfs_quota_us'));
  if (
    !v1 &&
    !(
      existsSync(join(V2, 'cgroup.controllers')) &&
      readFileSync(join(V2, 'cgroup.subtree_control'), 'utf8').includes('cpu')
    )
  ) {
    throw new Error(
      '--scale-cpu: no cgroup cpu controller here (Linux only); run without --scale-cpu',
    );
  }
  const dirs: string[] = [];
  const release = (): void => {
    // why: a group can be removed only once its processes have exited (the caller stops them first).
    for (const dir of dirs) {
      try {
        rmdirSync(dir);
      } catch {
        /* still busy or gone: an empty group left behind is harmless */
      }
    }
  };
  try {
    for (const [i, pid] of pids.entries()) {
      const dir = join(v1 ? V1 : V2, `studyhook-bench-${tag}-${i}`);
      mkdirSync(dir, { recursive: true });
      dirs.push(dir);
      if (v1) {
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
      } else writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
      // why: cgroup.procs moves every thread of the process, and threads started later stay in the group.
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    }
  } catch (err) {
    release();
    throw new Error(
      `--scale-cpu: cannot cap the API processes with a cgroup (${(err as Error).message}); run as root on Linux, or without --scale-cpu`,
      { cause: err },
    );
  }
  return { release };
}
