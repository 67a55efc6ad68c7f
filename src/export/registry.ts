import { adapters } from '../../adapters/index.js';
import type { TableBuilder } from './types.js';

/** Every table, platform by platform in the adapters' order, each platform's in its own order. */
export const tables: readonly TableBuilder[] = adapters.flatMap((a) => a.exportTables ?? []);
