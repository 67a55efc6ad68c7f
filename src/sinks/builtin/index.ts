import { adapters } from '../../../adapters/index.js';
import type { Sink } from '../types.js';
import chat from './chat.js';
import filesystem from './filesystem.js';
import http from './http.js';
import postgres from './postgres.js';

/**
 * The built-in sinks by name: the one list the config's `use` is checked against (load-config.ts)
 * and loaded from (load-sinks.ts): the core's, then those the adapters bring (`sensorlogger-fetch`).
 * No prototype, so a `use` named like an Object member finds nothing.
 */
export const builtinSinks: Readonly<Record<string, Sink<any, any>>> = Object.assign(
  Object.create(null) as Record<string, Sink<any, any>>,
  Object.fromEntries(
    [filesystem, postgres, http, chat, ...adapters.flatMap((a) => a.sinks ?? [])].map((sink) => [
      sink.name,
      sink,
    ]),
  ),
);

/** The built-in sink of that name, if there is one. */
export function builtinSink(name: string): Sink<any, any> | undefined {
  return Object.hasOwn(builtinSinks, name) ? builtinSinks[name] : undefined;
}
