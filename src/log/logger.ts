import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

// why: secrets reach logs through headers, error objects and sink-provided fields; pino's redact
// removes them at serialisation, whatever the call site wrote.
const REDACT = [
  'secretCode', '*.secretCode', '*.*.secretCode', 'secrets', '*.secrets',
  'authorization', '*.authorization', '*.*.authorization', 'headers.cookie', '*.headers.cookie',
  '*.headers["x-prolific-request-signature"]', '*.headers["x-actigraph-signature"]', '*.headers["x-actigraph-hook-secret"]',
  'token', '*.token', 'password', '*.password',
];

/** Structured JSON logs. `values` are literal secret strings (from the config) scrubbed from every line. */
export function createLogger(opts: { level: string; destination?: DestinationStream; secretValues?: ReadonlySet<string> }): Logger {
  const secrets = [...(opts.secretValues ?? [])].filter((s) => s.length >= 4);
  const scrub = secrets.length === 0 ? undefined : (line: string): string => secrets.reduce((acc, s) => acc.split(s).join('********'), line);
  const dest = opts.destination ?? pino.destination({ dest: 1, sync: false });
  const stream: DestinationStream = scrub ? { write: (line: string) => dest.write(scrub(line)) } : dest;
  return pino({ level: opts.level, base: { service: 'studyhook' }, redact: { paths: REDACT, censor: '[redacted]' } }, stream);
}
