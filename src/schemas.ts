import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { schemaDir } from './paths.js';
import type { SchemaId } from './schema-id.js';

// why: ajv-formats ships CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** One validation problem, with a JSON-pointer-like path into the checked document. */
export interface SchemaProblem {
  path: string;
  message: string;
}

function listSchemaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return listSchemaFiles(path);
    return e.name.endsWith('.schema.json') ? [path] : [];
  });
}

function createAjv(useDefaults: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults, strict: false });
  addFormats(ajv);
  for (const file of listSchemaFiles(schemaDir))
    ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')));
  return ajv;
}

let payloadAjv: Ajv | undefined;
let configAjv: Ajv | undefined;

/** The compiled validator of a schema id (ajv compiles each once and keeps it). */
function validator(id: string, forConfig: boolean): ValidateFunction {
  const ajv = forConfig ? (configAjv ??= createAjv(true)) : (payloadAjv ??= createAjv(false));
  const fn = ajv.getSchema(id);
  if (!fn) throw new Error(`Unknown schema id ${id}: is schemas/ missing a file?`);
  return fn;
}

function toProblems(errors: ErrorObject[] | null | undefined): SchemaProblem[] {
  return (errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` '${String(e.params['additionalProperty'])}'`
        : e.keyword === 'enum'
          ? ` (${(e.params['allowedValues'] as unknown[]).join(', ')})`
          : '';
    return { path: e.instancePath || '/', message: `${e.message ?? 'is invalid'}${extra}` };
  });
}

/**
 * Validates a payload against a schema id (one of src/generated/'s, typed): true narrows `data` to
 * the schema's type; false leaves what was wrong in `problems`.
 */
export function validatePayload<T>(
  id: SchemaId<T>,
  data: unknown,
  problems: SchemaProblem[],
): data is T {
  const fn = validator(id, false);
  if (fn(data)) return true;
  problems.push(...toProblems(fn.errors));
  return false;
}

/** Validates (and fills defaults into) a configuration section. */
export function validateConfig(id: string, data: unknown): SchemaProblem[] {
  const fn = validator(id, true);
  return fn(data) ? [] : toProblems(fn.errors);
}

/** Validates any document against an ad-hoc schema (a sink's optionsSchema), filling defaults. */
export function validateWith(schema: object, data: unknown): SchemaProblem[] {
  configAjv ??= createAjv(true);
  const fn = configAjv.compile(schema);
  return fn(data) ? [] : toProblems(fn.errors);
}
