import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type ResolvedConfig } from '../config/load-config.js';
import { CLASSIFICATIONS } from '../study/classify.js';
import { findStudy } from '../study/find-study.js';
import { participantsCsv, participantsText, statusText } from '../study/format-study.js';
import { readStudy } from '../study/read-study.js';
import { StudyError } from '../study/study-error.js';
import type { StudyAction } from '../study/study-part.js';
import { studyParts } from '../study/study-parts.js';
import { archiveDirOf } from './export.js';
import { defineCommand } from '../command.js';

/** The platforms' own actions (Prolific's `approve`), after `status` and `participants`. */
const actions = (): StudyAction[] => studyParts().flatMap((p) => p.actions ?? []);

const entry = (name: string, lines: readonly string[]) =>
  lines.map((l, i) => `${i ? ' '.repeat(16) : `  ${name.padEnd(14)}`}${l}`).join('\n');

const help =
  () => `Usage: studyhook study <${['status', 'participants', ...actions().map((a) => a.name)].join('|')}> <study> [options]

${entry('status', ['counts per platform and status, participants per classification', '[--format text|json]'])}
${entry('participants', [
  "one row per participant with each platform's state and its classification",
  '(complete, incomplete, no data, data without submission, returned/timed out)',
  '[--format text|csv|json] [--only CLASSIFICATION]',
])}
${actions()
  .map((a) => `${entry(a.name, a.help)}\n`)
  .join('')}
<study> is a name under studies: in the config, or else a namespace used on every platform.
Common: --config FILE, --archive-dir DIR (default: the filesystem sink's directory).`;

type ActionOptions = StudyAction['options'];
interface CoreValues {
  config?: string;
  format?: string;
  only?: string;
  'archive-dir'?: string;
  help?: boolean;
}

async function run(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const parsed = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      format: { type: 'string' },
      only: { type: 'string' },
      'archive-dir': { type: 'string' },
      ...(Object.assign({}, ...actions().map((a) => a.options)) as ActionOptions),
      help: { type: 'boolean', short: 'h' },
    },
  });
  // why: the actions' options are known only at run time; none of them is multiple.
  const values = parsed.values as CoreValues & Record<string, string | boolean | undefined>;
  const { positionals } = parsed;
  if (values.help || action === '--help' || action === '-h') {
    console.log(help());
    return 0;
  }
  if (
    !action ||
    !['status', 'participants', ...actions().map((a) => a.name)].includes(action) ||
    positionals.length !== 1
  ) {
    console.error(help());
    return 2;
  }
  const format = values.format ?? 'text';
  const formats = action === 'participants' ? ['text', 'csv', 'json'] : ['text', 'json'];
  if (!formats.includes(format))
    throw new StudyError(
      `--format must be ${formats.join(', ')} for study ${action}, not '${format}'`,
    );
  if (values.only !== undefined && !(CLASSIFICATIONS as readonly string[]).includes(values.only))
    throw new StudyError(`--only must be one of: ${CLASSIFICATIONS.join(', ')}`);
  const config: ResolvedConfig = loadConfig({ path: values.config });
  const archiveDir =
    values['archive-dir'] !== undefined ? resolve(values['archive-dir']) : archiveDirOf(config);
  const study = await findStudy(config, positionals[0]!, archiveDir);
  const tty = process.stderr.isTTY;
  const step = tty
    ? (label: string) => process.stderr.write(`\r\x1b[Kstudyhook study: ${label}`)
    : undefined;
  const state = await readStudy({
    study,
    archiveDir,
    dataDir: config.dataDir,
    ...(step && { step }),
  });
  if (tty) process.stderr.write('\r\x1b[K');
  const platforms = Object.keys(study.namespaces);
  // why: machine formats go to stdout alone; what was skipped is still said, on stderr.
  const reportSkipped = () => {
    for (const b of state.summary.badLines.slice(0, 20))
      console.error(`skipped ${b.file}:${b.line}: ${b.reason}`);
    if (state.summary.badLineCount > 20)
      console.error(`... and ${state.summary.badLineCount - 20} more bad line(s)`);
  };
  if (action === 'status') {
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify(state.summary, null, 2)}\n`);
      reportSkipped();
    } else process.stdout.write(statusText(state.summary));
    return 0;
  }
  if (action === 'participants') {
    const rows = values.only
      ? state.participants.filter((p) => p.classification === values.only)
      : state.participants;
    process.stdout.write(
      format === 'csv'
        ? participantsCsv(rows, platforms)
        : format === 'json'
          ? `${JSON.stringify(rows, null, 2)}\n`
          : participantsText(rows, platforms),
    );
    reportSkipped();
    return 0;
  }
  reportSkipped();
  return actions()
    .find((a) => a.name === action)!
    .run({
      config,
      study,
      participants: state.participants,
      values,
      out: (l) => console.log(l),
    });
}

export const study = defineCommand({
  name: 'study',
  get summary() {
    return `a study across platforms: status, participants (complete, incomplete, ...)${actions()
      .map((a) => `, ${a.summary}`)
      .join('')} (--help)`;
  },
  async run(args) {
    try {
      return await run(args);
    } catch (err) {
      // why: a user-fixable problem is one line and exit 1, not a stack trace.
      if (
        !(err instanceof StudyError) &&
        !(err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      )
        throw err;
      console.error(`studyhook study: ${err.message}`);
      return 1;
    }
  },
});
