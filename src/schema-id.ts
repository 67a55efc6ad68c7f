declare const validates: unique symbol;

/**
 * A schema id (the `$id` of a file in schemas/) carrying the type of the documents it accepts.
 * src/generated/ exports one per schema (`prolificEventSchema`); validatePayload narrows to the type.
 */
export type SchemaId<T> = string & { readonly [validates]: T };
