import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { BlobStore, FileRef } from '../../src/blobs/blob-store.js';
import { PermanentError } from '../../src/errors.js';
import type { StudyhookEvent } from '../../src/generated/event.js';
import type { SensorLoggerStored } from '../../src/generated/sensorlogger-stored.js';

/** One file inside a recording's zip. */
export interface RecordingEntry {
  name: string;
  size: number;
}

/** A stored recording opened for reading; call `close()` when done. */
export interface Recording {
  file: FileRef;
  format: SensorLoggerStored['format'];
  /** Absolute path of the stored file; undefined when the blob store is a bucket (see `location`). */
  path: string | undefined;
  /** Where the stored file is: an absolute path, or `s3://<bucket>/<key>`. */
  location: string;
  /** Files inside the zip (directories left out); empty when the recording is not a zip. */
  entries: RecordingEntry[];
  /** Streams one file of the zip, decompressed. */
  openEntry(name: string): Promise<Readable>;
  /** Streams the whole stored file as downloaded. */
  open(): Readable;
  close(): void;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** True when a stored file starts with the zip local-header magic `PK\x03\x04`. */
export async function isZipFile(blobs: BlobStore, file: FileRef): Promise<boolean> {
  if (file.size < 4) return false;
  return (await buffer(blobs.open(file, { start: 0, end: 3 }))).equals(ZIP_MAGIC);
}

/** Bytes of a zip's end kept in memory: its central directory, read with one request in the usual case. */
const TAIL_BYTES = 1024 * 1024;

/**
 * Random access to a stored file through ranged reads of the blob store, so that a zip in a bucket
 * is listed and read without a local copy. why: yauzl reads the central directory in many small
 * pieces; the file's last MiB (where that directory is) is fetched once and served from memory.
 */
class BlobReader extends yauzl.RandomAccessReader {
  private tail: Promise<Buffer> | undefined;
  constructor(
    private readonly blobs: BlobStore,
    private readonly file: FileRef,
  ) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end <= start) return Readable.from([]);
    const tailStart = Math.max(0, this.file.size - TAIL_BYTES);
    if (start < tailStart) return this.blobs.open(this.file, { start, end: end - 1 });
    this.tail ??= buffer(this.blobs.open(this.file, { start: tailStart, end: this.file.size - 1 }));
    return Readable.from(
      (async function* (tail) {
        yield (await tail).subarray(start - tailStart, end - tailStart);
      })(this.tail),
    );
  }
}

function openZip(blobs: BlobStore, file: FileRef): Promise<ZipFile> {
  return yauzl.fromRandomAccessReaderPromise(new BlobReader(blobs, file), file.size, {
    autoClose: false,
  });
}

async function readEntries(zip: ZipFile): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  for await (const entry of zip.eachEntry()) {
    if (!entry.fileName.endsWith('/')) entries.set(entry.fileName, entry);
  }
  return entries;
}

const listOf = (entries: Map<string, Entry>): RecordingEntry[] =>
  [...entries.values()].map((e) => ({ name: e.fileName, size: e.uncompressedSize }));

/** Names and uncompressed sizes of the files in a stored zip. */
export async function listZip(blobs: BlobStore, file: FileRef): Promise<RecordingEntry[]> {
  const zip = await openZip(blobs, file);
  try {
    return listOf(await readEntries(zip));
  } finally {
    zip.close();
  }
}

/** Opens the recording a `sensorlogger.recording.stored` event refers to. */
export async function openRecording(event: StudyhookEvent, blobs: BlobStore): Promise<Recording> {
  const data = event.data as Partial<SensorLoggerStored> | null;
  if (!data?.file?.uri)
    throw new PermanentError(
      `event ${event.id} (${event.type}) refers to no stored recording: pass a sensorlogger.recording.stored event`,
    );
  const file = data.file;
  const location = blobs.location(file);
  const zip = (await isZipFile(blobs, file)) ? await openZip(blobs, file) : undefined;
  let entries = new Map<string, Entry>();
  try {
    if (zip) entries = await readEntries(zip);
  } catch (err) {
    zip?.close();
    throw err;
  }
  return {
    file,
    location,
    path: location.startsWith('s3://') ? undefined : location,
    format: zip ? 'zip' : 'other',
    entries: listOf(entries),
    async openEntry(name) {
      const entry = entries.get(name);
      if (!zip || !entry) throw new Error(`recording ${file.name} has no file ${name}`);
      return zip.openReadStreamPromise(entry);
    },
    open: () => blobs.open(file),
    close: () => zip?.close(),
  };
}
