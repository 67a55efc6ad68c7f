import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { censor, SECRET_KEYS } from './censor.js';

export type { Logger };

/**
 * Structured JSON logs. Secrets reach logs through headers, error objects and sink-provided fields:
 * every field named in SECRET_KEYS or `secretKeys` (the platforms' secret headers and fields) is
 * censored at any depth, whatever the call site wrote, and `secretValues` (literal secret strings
 * from the config) are scrubbed from every line.
 */
export function createLogger(opts: {
  level: string;
  destination?: DestinationStream;
  secretValues?: ReadonlySet<string>;
  secretKeys?: Iterable<string>;
}): Logger {
  const keys = new Set([
    ...SECRET_KEYS,
    ...[...(opts.secretKeys ?? [])].map((k) => k.toLowerCase()),
  ]);
  const secrets = [...(opts.secretValues ?? [])].filter((s) => s.length >= 4);
  // why: includes() first: almost no line holds a secret, and split/join allocates an array per secret per line.
  const scrub =
    secrets.length === 0
      ? undefined
      : (line: string): string => {
          for (const s of secrets) if (line.includes(s)) line = line.split(s).join('********');
          return line;
        };
  const dest = opts.destination ?? pino.destination({ dest: 1, sync: false });
  const stream: DestinationStream = scrub
    ? { write: (line: string) => dest.write(scrub(line)) }
    : dest;
  // why: pino's own `redact` needs wildcard paths for "this key at any depth", and the bench
  // measured those as costing more than the rest of a request's logging; a key walk is far cheaper.
  const logger = pino(
    {
      level: opts.level,
      base: { service: 'studyhook' },
      formatters: { log: (obj) => censor(obj, keys) as Record<string, unknown> },
      // why: a string (or anything not an Error) under `err` is logged as itself, not spread into {"0":"C",...}.
      serializers: {
        err: (err: unknown) =>
          err instanceof Error ? censor({ ...stdSerializers.err(err) }, keys) : err,
      },
    },
    stream,
  );
  return logger;
}
