// The soak of `npm run bench --soak`: a steady load at half peak, the API's memory sampled every second.
import { load, memory, slope } from './procs.js';

type Point = [number, number];
export interface SoakResult {
  minutes: number;
  startMb: number;
  endMb: number;
  slopeMbPerMin: number;
  floorSlopeMbPerMin: number;
  floorsMb: number[];
  heapFloorsMb: number[];
  heapFloorSlopeMbPerMin: number;
  samples: number;
  everyTenSeconds: number[][];
}

/** The lowest sample of each 30 s window: RSS and heap saw up and down between collections, a leak raises the floor. */
function floors(points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (let i = 0; i + 30 <= points.length; i += 30)
    out.push(points.slice(i, i + 30).reduce((lo, p) => (p[1] < lo[1] ? p : lo)));
  return out;
}

/** V8's used heap in MB from the API's own /metrics (prom-client's default gauge), or undefined. */
async function heapUsedMb(port: number, token: string): Promise<number | undefined> {
  try {
    const text = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).text();
    const m = /^studyhook_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
    return m ? Number(m[1]) / 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}

export async function soak(o: {
  port: number;
  pid: number;
  minutes: number;
  rate: number;
  connections: number;
  adminToken: string;
}): Promise<SoakResult> {
  const rss: Point[] = [];
  const heap: Point[] = [];
  const t0 = Date.now();
  const timer = setInterval(() => {
    const t = (Date.now() - t0) / 1000;
    rss.push([t, memory(o.pid).rss]);
    void heapUsedMb(o.port, o.adminToken).then((mb) => {
      if (mb !== undefined) heap.push([t, mb]);
    });
  }, 1000);
  await load({
    url: `http://127.0.0.1:${o.port}`,
    key: 'sensorlogger',
    connections: o.connections,
    duration: Math.round(o.minutes * 60),
    rate: o.rate,
  });
  clearInterval(timer);
  // why: the first fifth is warm-up (JIT, pools filling); the trends are fitted over the rest.
  const rest = rss.slice(Math.floor(rss.length / 5));
  const heapRest = heap.slice(Math.floor(heap.length / 5));
  const rssFloors = floors(rest),
    heapFloors = floors(heapRest);
  const round = (p: Point): number => Math.round(p[1] * 10) / 10;
  return {
    minutes: o.minutes,
    startMb: rest[0]?.[1] ?? 0,
    endMb: rest.at(-1)?.[1] ?? 0,
    slopeMbPerMin: slope(rest) * 60,
    floorSlopeMbPerMin: slope(rssFloors) * 60,
    floorsMb: rssFloors.map(round),
    heapFloorSlopeMbPerMin: slope(heapFloors) * 60,
    heapFloorsMb: heapFloors.map(round),
    samples: rss.length,
    everyTenSeconds: rss
      .filter((_, i) => i % 10 === 0)
      .map(([t, mb]) => [Math.round(t), Math.round(mb * 10) / 10]),
  };
}
