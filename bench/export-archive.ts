import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';

/** What the export bench generates: `sessions` × `trials` `labvanced.trial.recorded` events of `variables` variables each. */
export interface ArchiveShape {
  sessions: number;
  trials: number;
  variables: number;
  days: number;
}

function uuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** One trial's variables: numbers, text and booleans, as a Stroop-like task records them. */
function variables(n: number, session: number, trial: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let v = 0; v < n; v++) {
    const x = (session * 7919 + trial * 104729 + v * 31) % 1000;
    switch (v % 4) {
      case 0:
        out[`rt_${v}`] = 200 + x;
        break;
      case 1:
        out[`response_${v}`] = x % 2 ? 'left' : 'right';
        break;
      case 2:
        out[`correct_${v}`] = x % 3 !== 0;
        break;
      default:
        out[`score_${v}`] = x / 8;
        break;
    }
  }
  return out;
}

/**
 * Writes the archive the filesystem sink would have written for that study, one file per UTC day
 * (sessions spread evenly over `days`), into `<dir>/labvanced/<namespace>/`. Returns the files' total bytes.
 */
export async function writeTrialArchive(
  dir: string,
  namespace: string,
  shape: ArchiveShape,
): Promise<{ bytes: number; events: number }> {
  const nsDir = join(dir, 'labvanced', namespace);
  await mkdir(nsDir, { recursive: true });
  let bytes = 0;
  const perDay = Math.ceil(shape.sessions / shape.days);
  for (let day = 0; day < shape.days; day++) {
    const date = new Date(Date.UTC(2026, 4, 1 + day));
    const out = createWriteStream(join(nsDir, `${date.toISOString().slice(0, 10)}.jsonl`));
    for (let s = day * perDay; s < Math.min(shape.sessions, (day + 1) * perDay); s++) {
      const session = 100000 + s;
      let chunk = '';
      for (let t = 1; t <= shape.trials; t++) {
        const at = new Date(date.getTime() + s * 60_000 + t * 1500).toISOString();
        const data = {
          expId: 4242,
          expSessionNr: session,
          recTaskId: 1 + Math.floor((t - 1) / 100),
          taskId: 't-stroop',
          trialNr: t,
          recData: { data: variables(shape.variables, s, t), scope: 'trial' },
        };
        const event = {
          specversion: '1.0',
          id: uuid(`${session}/${t}`),
          source: `/labvanced/${namespace}`,
          type: 'labvanced.trial.recorded',
          time: at,
          datacontenttype: 'application/json',
          platform: 'labvanced',
          namespace,
          receivedat: at,
          bodysha256: createHash('sha256').update(`${session}/${t}`).digest('hex'),
          requestid: uuid(`r${session}/${t}`),
          sessionid: String(session),
          subject: String(session),
          studyid: '4242',
          participantid: `P${session}`,
          trialnr: String(t),
          data,
        };
        chunk += `${JSON.stringify(event)}\n`;
      }
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }
  return { bytes, events: shape.sessions * shape.trials };
}
