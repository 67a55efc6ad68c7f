import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';

/** What the study bench generates: `participants` recruited on Prolific, each running one Labvanced session. */
export interface StudyShape {
  participants: number;
  tasks: number;
  trialsPerTask: number;
  variables: number;
  days: number;
}

function uuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** What each participant did, from their index: most finish, a few fail, return, time out or lose a trial. */
export function fate(
  i: number,
): 'complete' | 'failed' | 'gap' | 'returned' | 'timed-out' | 'no-data' {
  const r = i % 100;
  return r < 3
    ? 'failed'
    : r < 5
      ? 'gap'
      : r < 9
        ? 'returned'
        : r < 10
          ? 'timed-out'
          : r < 11
            ? 'no-data'
            : 'complete';
}

class Day {
  private chunk = '';
  constructor(readonly out: WriteStream) {}
  async add(event: Record<string, unknown>): Promise<void> {
    this.chunk += `${JSON.stringify(event)}\n`;
    if (this.chunk.length > 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.chunk && !this.out.write(this.chunk)) await once(this.out, 'drain');
    this.chunk = '';
  }
  async end(): Promise<void> {
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
  }
}

/**
 * Writes the archive the filesystem sink would have written for a Prolific + Labvanced study
 * (namespaces `lab` and `stroop`), one file per platform and UTC day. Returns the number of events.
 */
export async function writeStudyArchive(
  dir: string,
  shape: StudyShape,
): Promise<{ events: number }> {
  let events = 0;
  const perDay = Math.ceil(shape.participants / shape.days);
  for (let day = 0; day < shape.days; day++) {
    const date = new Date(Date.UTC(2026, 4, 1 + day));
    const name = `${date.toISOString().slice(0, 10)}.jsonl`;
    await mkdir(join(dir, 'prolific', 'lab'), { recursive: true });
    await mkdir(join(dir, 'labvanced', 'stroop'), { recursive: true });
    const pr = new Day(createWriteStream(join(dir, 'prolific', 'lab', name)));
    const lv = new Day(createWriteStream(join(dir, 'labvanced', 'stroop', name)));
    for (let i = day * perDay; i < Math.min(shape.participants, (day + 1) * perDay); i++) {
      const pid = `PID${String(i).padStart(8, '0')}`;
      const what = fate(i);
      let at = date.getTime() + (i - day * perDay) * 8000;
      const stamp = () => new Date((at += 50)).toISOString();
      const base = (type: string, source: string) => ({
        specversion: '1.0',
        source,
        type,
        datacontenttype: 'application/json',
        receivedat: stamp(),
        bodysha256: '0'.repeat(64),
      });
      const prolific = async (status: string) => {
        const e = {
          ...base('prolific.submission.status.change', '/prolific/lab'),
          platform: 'prolific',
          namespace: 'lab',
          id: `evt-${i}-${status}`,
          subject: `SUB${i}`,
          participantid: pid,
          status,
          requestid: uuid(`p${i}${status}`),
          data: {
            resource_id: `SUB${i}`,
            event_type: 'submission.status.change',
            participant_id: pid,
            status,
          },
        };
        await pr.add({ ...e, time: e.receivedat });
        events += 1;
      };
      await prolific('ACTIVE');
      const session = String(100000 + i);
      const lvEvent = async (
        type: string,
        data: Record<string, unknown>,
        key: string,
        participant?: string,
      ) => {
        const e = {
          ...base(type, '/labvanced/stroop'),
          platform: 'labvanced',
          namespace: 'stroop',
          id: uuid(`${session}/${key}`),
          requestid: uuid(`r${session}/${key}`),
          sessionid: session,
          subject: session,
          studyid: '4242',
          ...(participant && { participantid: participant }),
          data: { expId: 4242, expSessionNr: Number(session), ...data },
        };
        await lv.add({ ...e, time: e.receivedat });
        events += 1;
      };
      if (what !== 'no-data') {
        await lvEvent(
          'labvanced.session.assigned',
          { subject_code: pid, groupNr: 1, sessionNr: 1 },
          'assigned',
          pid,
        );
        await lvEvent(
          'labvanced.session.started',
          { start_time: '2026-05-01 10:00:00+02' },
          'started',
        );
        await lvEvent(
          'labvanced.session.meta',
          { var_data: { browserSpec: 'Chrome', crowdsourcinSubjId: pid } },
          'meta',
          pid,
        );
        const tasks = what === 'returned' || what === 'timed-out' ? 1 : shape.tasks;
        for (let t = 1; t <= tasks; t++) {
          await lvEvent(
            'labvanced.task.started',
            { taskNr: t, taskId: `t${t}`, recTaskId: t, taskName: `Task ${t}` },
            `task${t}`,
          );
          const trials =
            what === 'returned' || what === 'timed-out'
              ? 10
              : what === 'failed'
                ? Math.floor(shape.trialsPerTask / 2)
                : shape.trialsPerTask;
          for (let n = 1; n <= trials; n++) {
            if (what === 'gap' && t === 1 && n === 17) continue;
            const vars: Record<string, unknown> = {};
            for (let v = 0; v < shape.variables; v++)
              vars[`v${v}`] = v % 2 ? (i + n + v) % 1000 : n % 2 ? 'left' : 'right';
            await lvEvent(
              'labvanced.trial.recorded',
              {
                recTaskId: t,
                taskId: `t${t}`,
                trialNr: n,
                recData: { data: vars, scope: 'trial' },
              },
              `trial${t}/${n}`,
            );
          }
        }
        if (what === 'failed')
          await lvEvent('labvanced.session.failed', { err_msg: 'WebGL not supported' }, 'failed');
        else if (what === 'complete' || what === 'gap') {
          await lvEvent(
            'labvanced.file.uploaded',
            {
              fileName: 'voice.webm',
              file: {
                id: uuid(`f${session}`),
                name: 'voice.webm',
                contentType: 'audio/webm',
                size: 1000,
                sha256: '0'.repeat(64),
                uri: `blob:${uuid(`f${session}`)}`,
              },
            },
            'file',
          );
          await lvEvent(
            'labvanced.session.finished',
            { end_time: '2026-05-01 10:07:30+02' },
            'finished',
          );
        }
      }
      if (what === 'returned') await prolific('RETURNED');
      else if (what === 'timed-out') await prolific('TIMED-OUT');
      else if (what !== 'failed') await prolific('AWAITING REVIEW');
    }
    await pr.end();
    await lv.end();
  }
  return { events };
}
