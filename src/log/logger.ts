import { pino, stdSerializers, symbols, type DestinationStream, type Logger } from 'pino';
import { censor, SECRET_KEYS } from './censor.js';

export type { Logger };

/**
 * Structured JSON logs. Secrets reach logs through headers, error objects and sink-provided fields:
 * every field named in SECRET_KEYS or `secretKeys` (the platforms' secret headers and fields) is
 * censored at any depth, whatever the call site wrote, and `secretValues` (literal secret strings
 * from the config) are scrubbed from every line.
 */
export function createLogger(opts: { level: string; destination?: DestinationStream; secretValues?: ReadonlySet<string>; secretKeys?: Iterable<string> }): Logger {
  const keys = new Set([...SECRET_KEYS, ...[...opts.secretKeys ?? []].map((k) => k.toLowerCase())]);
  const secrets = [...(opts.secretValues ?? [])].filter((s) => s.length >= 4);
  // why: includes() first: almost no line holds a secret, and split/join allocates an array per secret per line.
  const scrub = secrets.length === 0 ? undefined : (line: string): string => {
    for (const s of secrets) if (line.includes(s)) line = line.split(s).join('********');
    return line;
  };
  const dest = opts.destination ?? pino.destination({ dest: 1, sync: false });
  const stream: DestinationStream = scrub ? { write: (line: string) => dest.write(scrub(line)) } : dest;
  // why: pino's own `redact` needs wildcard paths for "this key at any depth", and those cost
  // ~16 µs per line (bench: more than the rest of a request's logging); a key walk costs < 1 µs.
  const logger = pino({
    level: opts.level,
    base: { service: 'studyhook' },
    formatters: { log: (obj) => censor(obj, keys) as Record<string, unknown> },
    // why: a string (or anything not an Error) under `err` is logged as itself, not spread into {"0":"C",...}.
    serializers: { err: (err: unknown) => (err instanceof Error ? censor({ ...stdSerializers.err(err) }, keys) : err) },
  }, stream);
  plainLoggers.add(logger);
  return logger;
}

/** Loggers made by createLogger: pino's default line layout, our formatters. */
const plainLoggers = new WeakSet<object>();

/** Made by createLogger, or a child of one (pino's children have their parent as prototype). */
function isPlain(logger: object): boolean {
  for (let l: object | null = logger; l !== null; l = Object.getPrototypeOf(l) as object | null) if (plainLoggers.has(l)) return true;
  return false;
}

/** One answered platform request: the access line's fields. */
export interface AccessEntry { requestId: string; method: string; platform: string; route: string; status: number; ms: number }

/**
 * The access line (`request`, one per answered platform request) as pino writes it, without pino's
 * generic path. why: pino's formatting and the censor walk cost ~20k instructions per request, ~4%
 * of one (bench --instructions, A/B). None of these fields can hold a secret (the route is the
 * pattern, `:token`, never the value), so the line is written straight to the logger's stream,
 * still through the secret-value scrub. A logger not made by createLogger gets a plain logger.info.
 * The bindings are read once: a later `setBindings` would not show on these lines. createLogger's
 * destinations (a file or stream, never pino.multistream) take the line as it is.
 */
export function accessLogger(logger: Logger): (e: AccessEntry) => void {
  if (!isPlain(logger)) return (e) => { logger.info({ ...e }, 'request'); };
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[symbols.streamSym]!;
  // why: what pino writes after the time: the base fields (`,"service":"studyhook"`) and any child bindings.
  const bindings = (logger as unknown as Record<symbol, string>)[symbols.chindingsSym] ?? '';
  const level = logger.levels.values['info'];
  const str = JSON.stringify;
  return (e) => {
    if (!logger.isLevelEnabled('info')) return;
    stream.write(`{"level":${level},"time":${Date.now()}${bindings},"requestId":${str(e.requestId)},"method":${str(e.method)},"platform":${str(e.platform)},"route":${str(e.route)},"status":${e.status},"ms":${e.ms},"msg":"request"}\n`);
  };
}
