import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ResolvedSink } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { validateWith } from '../schemas.js';
import { builtinSink } from './builtin/index.js';
import type { Sink } from './types.js';

/** A sink module loaded and its options checked, not yet set up. */
export interface LoadedSink {
  config: ResolvedSink;
  sink: Sink<any, any>;
  options: Record<string, unknown>;
}

const TS_FILE = /\.(c|m)?tsx?$/;

/**
 * A lab may write its sink in TypeScript without a build step. why tsImport, not register(): with
 * tsx's global loader, Node 20 loads a `.ts` file outside a "type": "module" package through
 * require(esm), which fails with "Cannot require() ES Module ... in a cycle"; tsImport loads that
 * one module (and its imports) in its own namespace, as ESM, wherever the file lives.
 */
async function importSink(spec: string): Promise<unknown> {
  const isPath = spec.startsWith('/');
  if (isPath && !existsSync(spec)) throw new Error(`file ${spec} does not exist`);
  const url = isPath ? pathToFileURL(spec).href : spec;
  const mod = (
    TS_FILE.test(spec)
      ? await (await import('tsx/esm/api')).tsImport(url, import.meta.url)
      : await import(url)
  ) as { default?: unknown };
  const exported =
    mod.default && typeof mod.default === 'object' && 'default' in mod.default
      ? (mod.default as { default: unknown }).default
      : mod.default;
  return exported;
}

function checkShape(value: unknown): string | undefined {
  if (!value || typeof value !== 'object')
    return 'its default export is not a sink object (export default { name, deliver })';
  const s = value as Partial<Sink>;
  if (typeof s.deliver !== 'function')
    return 'its default export has no deliver(event, ctx) function';
  if (s.setup !== undefined && typeof s.setup !== 'function') return 'setup is not a function';
  if (s.close !== undefined && typeof s.close !== 'function') return 'close is not a function';
  if (s.concurrency !== undefined && !(Number.isInteger(s.concurrency) && s.concurrency >= 1))
    return 'concurrency is not a positive integer';
  return undefined;
}

/** Loads every configured sink and checks its options; all problems are reported together. */
export async function loadSinks(configs: readonly ResolvedSink[]): Promise<LoadedSink[]> {
  const problems: string[] = [];
  const loaded: LoadedSink[] = [];
  for (const config of configs) {
    let sink: unknown;
    try {
      sink = config.use !== undefined ? builtinSink(config.use) : await importSink(config.module!);
    } catch (err) {
      problems.push(
        `sink '${config.name}': cannot load module ${config.module}: ${(err as Error).message}`,
      );
      continue;
    }
    const shape = checkShape(sink);
    if (shape) {
      problems.push(`sink '${config.name}' (${config.module ?? config.use}): ${shape}`);
      continue;
    }
    const s = sink as Sink;
    const options = structuredClone(config.options);
    if (s.optionsSchema) {
      for (const p of validateWith(s.optionsSchema, options))
        problems.push(
          `sink '${config.name}': options${p.path === '/' ? '' : p.path}: ${p.message}`,
        );
    }
    loaded.push({ config, sink: s, options });
  }
  if (problems.length > 0)
    throw new StudyhookError(
      'SH_SINK_LOAD',
      `Sinks could not be loaded:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      { details: problems },
    );
  return loaded;
}
