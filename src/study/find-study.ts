import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/load-config.js';
import { implicitStudy } from './study-config.js';
import type { StudyDef } from './types.js';
import { StudyError } from './study-error.js';

async function dirs(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/**
 * The study of that name: `studies.<name>` of the config, else (no such entry) the namespace of that
 * name on every platform whose archive has it, so that a Prolific + Labvanced study sharing one
 * namespace needs no configuration. Neither: a StudyError naming what exists.
 */
export async function findStudy(
  config: Pick<ResolvedConfig, 'studies'>,
  name: string,
  archiveDir: string,
): Promise<StudyDef> {
  if (Object.hasOwn(config.studies, name)) return config.studies[name]!;
  const platforms: string[] = [];
  const seen = new Set<string>();
  for (const p of await dirs(archiveDir)) {
    const names = await dirs(join(archiveDir, p));
    names.forEach((n) => seen.add(n));
    if (names.includes(name)) platforms.push(p);
  }
  if (platforms.length > 0) return implicitStudy(name, platforms);
  const configured = Object.keys(config.studies).sort().join(', ') || 'none';
  const namespaces = [...seen].sort().join(', ') || 'none';
  throw new StudyError(
    `unknown study '${name}': no studies.${name} in the config (studies there: ${configured}) and no namespace '${name}' in the archive ${archiveDir} (namespaces there: ${namespaces})`,
  );
}
