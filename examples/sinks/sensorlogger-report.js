// A "Notify & Respond" starting point: for each recording the built-in `sensorlogger-fetch` sink has
// stored, count the samples and the duration of every sensor CSV in the zip and post a Markdown report
// back to the participant's app. Enable it next to the fetch sink in studyhook.yml:
//
//   sinks:
//     - { name: fetch, use: sensorlogger-fetch }
//     - name: report
//       module: ./sinks/sensorlogger-report.js
//       filter: { types: ["sensorlogger.recording.stored"] }
//
// Replace summarise() and report() with your Study's own checks (orientation, gaps, a score...).
// Throwing retries with backoff; the client throws a PermanentError itself when Sensor Logger refuses.
import { createInterface } from 'node:readline';

const NOT_SENSORS = /(^|\/)(Metadata|StudyMetadata|Annotation)\.csv$/i;

export default {
  name: 'sensorlogger-report',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { title: { type: 'string', default: 'Your recording' } },
  },
  setup: (options) => ({ title: options.title }),
  async deliver(event, ctx) {
    if (event.type !== 'sensorlogger.recording.stored') return;
    const sensorlogger = ctx.clients.sensorlogger;
    const recording = await sensorlogger.openRecording(event, ctx);
    const sensors = [];
    try {
      for (const entry of recording.entries) {
        if (!/\.csv$/i.test(entry.name) || NOT_SENSORS.test(entry.name)) continue;
        const name = entry.name.replace(/^.*\//, '').replace(/\.csv$/i, '');
        sensors.push({ name, ...(await summarise(await recording.openEntry(entry.name))) });
      }
    } finally {
      recording.close();
    }
    await sensorlogger.respond(
      event,
      report(ctx.state.title, event, recording, sensors),
      ctx.secrets.secretCode,
    );
    ctx.logger.info({ uploadId: event.subject, sensors: sensors.length }, 'report sent');
  },
};

/** Samples and time span of one sensor CSV: `time` (Unix ns) when present, else `seconds_elapsed`. */
async function summarise(stream) {
  let column;
  let scale = 1;
  let samples = 0;
  let min = Infinity;
  let max = -Infinity;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    const cells = line.split(',');
    if (column === undefined) {
      const names = cells.map((c) =>
        c
          .replace(/^\uFEFF/, '')
          .replace(/"/g, '')
          .trim()
          .toLowerCase(),
      );
      column = names.indexOf('time');
      if (column >= 0) scale = 1e-9;
      else column = names.indexOf('seconds_elapsed');
      continue;
    }
    samples += 1;
    const t = column >= 0 ? Number(cells[column]) * scale : NaN;
    if (Number.isFinite(t)) {
      min = Math.min(min, t);
      max = Math.max(max, t);
    }
  }
  const seconds = max >= min ? max - min : undefined;
  return { samples, seconds, rateHz: seconds > 0 ? (samples - 1) / seconds : undefined };
}

function report(title, event, recording, sensors) {
  const lines = [`# ${title}`, '', `Received ${new Date(event.time).toUTCString()}.`, ''];
  if (recording.format !== 'zip') {
    lines.push(
      'Your recording arrived, but not as a zipped CSV export, so no per-sensor summary is shown.',
    );
  } else if (sensors.length === 0) {
    lines.push(
      'Your recording arrived, but it holds no sensor data. Please check that sensors are enabled and record again.',
    );
  } else {
    lines.push('| Sensor | Samples | Duration | Rate |', '|---|---:|---:|---:|');
    for (const s of sensors) {
      lines.push(
        `| ${s.name} | ${s.samples} | ${s.seconds === undefined ? 'n/a' : `${s.seconds.toFixed(1)} s`} | ${s.rateHz === undefined ? 'n/a' : `${s.rateHz.toFixed(1)} Hz`} |`,
      );
    }
    const longest = Math.max(0, ...sensors.map((s) => s.seconds ?? 0));
    lines.push('', `Total duration: ${longest.toFixed(1)} s. Thank you!`);
  }
  return `${lines.join('\n')}\n`;
}
