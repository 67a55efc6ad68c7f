import { StudyError } from '../../src/study/study-error.js';
import type { StudyAction } from '../../src/study/study-part.js';

/** `studyhook study approve <study>`: approves on Prolific the submissions of complete participants. */
export const approveAction: StudyAction = {
  name: 'approve',
  summary: 'approve on Prolific',
  help: [
    'approves on Prolific the submissions AWAITING REVIEW whose participant is',
    'complete; prints the plan and changes nothing unless --yes. Never rejects.',
    '[--yes] [--batch-size N (default 100)] [--token TOKEN] [--base-url URL]',
  ],
  options: {
    yes: { type: 'boolean' },
    'batch-size': { type: 'string' },
    token: { type: 'string' },
    'base-url': { type: 'string' },
  },
  async run({ config, study, participants, values, out }) {
    const batchSize = Number(values['batch-size'] ?? 100);
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new StudyError(
        `--batch-size must be a whole number of at least 1, not '${String(values['batch-size'])}'`,
      );
    // why: loaded when run, so that loading the registry does not load the queues and the Prolific API client.
    const { runApprove } = await import('./run-approve.js');
    return runApprove({
      config,
      study,
      participants,
      yes: values['yes'] === true,
      batchSize,
      token: values['token'] as string | undefined,
      baseUrl: values['base-url'] as string | undefined,
      out,
    });
  },
};
