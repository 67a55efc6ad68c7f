import { adapters } from '../../adapters/index.js';
import type { ExportScan, TableBuilder } from './types.js';

/** Every table, platform by platform in the adapters' order, each platform's in its own order. */
export const tables: readonly TableBuilder[] = adapters.flatMap((a) => a.exportTables ?? []);

/** The platforms that read their files in a pass of their own, by platform. */
export const scans: ReadonlyMap<string, ExportScan> = new Map(
  adapters.flatMap((a) => (a.exportScan ? [[a.platform, a.exportScan] as const] : [])),
);
