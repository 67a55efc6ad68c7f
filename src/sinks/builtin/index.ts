import type { Sink } from '../types.js';
import chat from './chat.js';
import filesystem from './filesystem.js';
import http from './http.js';
import postgres from './postgres.js';
import sensorloggerFetch from './sensorlogger-fetch.js';

/**
 * The built-in sinks by name: the one list the config's `use` is checked against (load-config.ts)
 * and loaded from (load-sinks.ts). No prototype, so a `use` named like an Object member finds nothing.
 */
export const builtinSinks: Readonly<Record<string, Sink<any, any>>> = Object.assign(Object.create(null) as Record<string, Sink<any, any>>, {
  filesystem,
  postgres,
  http,
  chat,
  'sensorlogger-fetch': sensorloggerFetch,
});

/** The built-in sink of that name, if there is one. */
export function builtinSink(name: string): Sink<any, any> | undefined {
  return Object.hasOwn(builtinSinks, name) ? builtinSinks[name] : undefined;
}
