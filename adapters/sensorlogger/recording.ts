import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { BlobStore, FileRef } from '../../src/blobs/blob-store.js';
import type { StudyhookEvent } from '../../src/generated/event.js';
import type { SensorLoggerStored } from '../../src/generated/sensorlogger-stored.js';
import { PermanentError } from '../../src/sinks/types.js';

/** One file inside a recording's zip. */
export interface RecordingEntry { name: string; size: number }

/** A stored recording opened for reading; call `close()` when done. */
export interface Recording {
  file: FileRef;
  format: SensorLoggerStored['format'];
  /** Absolute path of the stored file. */
  path: string;
  /** Files inside the zip (directories left out); empty when the recording is not a zip. */
  entries: RecordingEntry[];
  /** Streams one file of the zip, decompressed. */
  openEntry(name: string): Promise<Readable>;
  /** Streams the whole stored file as downloaded. */
  open(): Readable;
  close(): void;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** True when a file starts with the zip local-header magic `PK\x03\x04`. */
export async function isZipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(ZIP_MAGIC);
  } finally { await fh.close(); }
}

async function readEntries(zip: ZipFile): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  for await (const entry of zip.eachEntry()) {
    if (!entry.fileName.endsWith('/')) entries.set(entry.fileName, entry);
  }
  return entries;
}

const listOf = (entries: Map<string, Entry>): RecordingEntry[] => [...entries.values()].map((e) => ({ name: e.fileName, size: e.uncompressedSize }));

/** Names and uncompressed sizes of the files in a zip. */
export async function listZip(path: string): Promise<RecordingEntry[]> {
  const zip = await yauzl.openPromise(path, { autoClose: false });
  try { return listOf(await readEntries(zip)); } finally { zip.close(); }
}

/** Opens the recording a `sensorlogger.recording.stored` event refers to. */
export async function openRecording(event: StudyhookEvent, blobs: BlobStore): Promise<Recording> {
  const data = event.data as Partial<SensorLoggerStored> | null;
  if (!data?.file?.uri) throw new PermanentError(`event ${event.id} (${event.type}) refers to no stored recording: pass a sensorlogger.recording.stored event`);
  const file = data.file;
  const path = blobs.path(file);
  const zip = (await isZipFile(path)) ? await yauzl.openPromise(path, { autoClose: false }) : undefined;
  let entries = new Map<string, Entry>();
  try { if (zip) entries = await readEntries(zip); } catch (err) { zip?.close(); throw err; }
  return {
    file, path, format: zip ? 'zip' : 'other', entries: listOf(entries),
    async openEntry(name) {
      const entry = entries.get(name);
      if (!zip || !entry) throw new Error(`recording ${file.name} has no file ${name}`);
      return zip.openReadStreamPromise(entry);
    },
    open: () => blobs.open(file),
    close: () => zip?.close(),
  };
}
