import { adapters } from '../../../adapters/index.js';
import type { Sink } from '../types.js';
import chat from './chat.js';
import filesystem from './filesystem.js';
import http from './http.js';
import postgres from './postgres.js';

/** Built-in sinks by name (the config's `use` picks one): the core's, then those the adapters bring (`sensorlogger-fetch`). */
export const builtinSinks: Readonly<Record<string, Sink<any, any>>> = Object.fromEntries(
  [filesystem, postgres, http, chat, ...adapters.flatMap((a) => a.sinks ?? [])].map((sink) => [sink.name, sink]),
);
