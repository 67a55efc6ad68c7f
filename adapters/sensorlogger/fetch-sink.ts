import type { BlobStore, FileRef } from '../../src/blobs/blob-store.js';
import { PermanentError, StudyhookError } from '../../src/errors.js';
import type { SensorLoggerStored } from '../../src/generated/sensorlogger-stored.js';
import { defineSink } from '../../src/sinks/types.js';
import type { SensorLoggerClient } from './client.js';
import { isZipFile, listZip } from './recording.js';

interface Options {
  maxBytes: number;
  listEntries: boolean;
}

const UPLOADED = 'sensorlogger.recording.uploaded';
const MAX_ENTRIES = 1000;

/**
 * Downloads each Sensor Logger recording into the blob store, then emits
 * `sensorlogger.recording.stored` (data: {@link SensorLoggerStored}, `ctx.secrets.secretCode` kept)
 * so that other sinks work on the file instead of the notice.
 */
export default defineSink<Options, Options>({
  name: 'sensorlogger-fetch',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      maxBytes: {
        type: 'integer',
        minimum: 1,
        default: 4 * 1024 ** 3,
        description: 'Largest recording accepted (a larger one is a dead letter).',
      },
      listEntries: {
        type: 'boolean',
        default: true,
        description: "Put the zip's file list (names, sizes) into the event.",
      },
    },
  },
  setup: (options) => options,
  async deliver(event, ctx) {
    // why: the sink takes every event unless filtered; ignoring the others here keeps its config to one line.
    if (event.type !== UPLOADED) return;
    const client = ctx.clients['sensorlogger'] as SensorLoggerClient | undefined;
    if (!client)
      throw new PermanentError('the Sensor Logger client is not available (platform disabled?)');
    const { studyId, uploadId } = (event.data ?? {}) as { studyId?: unknown; uploadId?: unknown };
    if (typeof studyId !== 'string' || typeof uploadId !== 'string')
      throw new PermanentError(`event ${event.id} has no studyId/uploadId`);
    // why: a code is kept only while a delivery may need it; a replayed dead letter or a republished
    // upload has none, and then the namespace's configured code (when there is one) stands in.
    const secretCode = ctx.secrets['secretCode'] ?? client.configuredCode(event.namespace);
    if (!secretCode)
      throw new PermanentError(
        `event ${event.id} came without its secretCode, and its namespace has not exactly one in secretCodes`,
      );

    const download = await client.download(studyId, uploadId, secretCode);
    let ref: FileRef;
    try {
      ref = await ctx.blobs.put(download.body, {
        name: download.fileName ?? uploadId,
        contentType: download.contentType ?? 'application/octet-stream',
        maxBytes: ctx.state.maxBytes,
      });
    } catch (err) {
      if (err instanceof StudyhookError && err.code === 'SH_BLOB_TOO_LARGE')
        throw new PermanentError(`recording ${uploadId}: ${err.message}`);
      throw err;
    }
    let data: Awaited<ReturnType<typeof describe>>;
    try {
      data = await describe(ctx.blobs, ref, ctx.state.listEntries, (err) =>
        ctx.logger.warn(
          { eventId: event.id, uploadId, err: err.message },
          'recording looks like a zip but its file list cannot be read',
        ),
      );
    } catch (err) {
      // why: nothing refers to this file yet, and the retry downloads the recording into a new one.
      await ctx.blobs.remove(ref).catch(() => undefined);
      throw err;
    }
    // why: the key (study + upload) gives the follow-up a fixed id, so a retry after a lost ack is deduplicated.
    const stored = await ctx.emit(
      {
        type: 'sensorlogger.recording.stored',
        key: [studyId, uploadId],
        subject: uploadId,
        studyid: studyId,
        data: { studyId, uploadId, uploadedEventId: event.id, ...data },
        secrets: { secretCode },
      },
      event,
    );
    ctx.logger.info(
      {
        eventId: event.id,
        storedEventId: stored.id,
        uploadId,
        size: ref.size,
        sha256: ref.sha256,
        format: data.format,
      },
      'recording stored',
    );
  },
});

// why: the download's Content-Type is undocumented (platforms/sensorlogger.md, open question 4), so a zip is known by its magic bytes.
async function describe(
  blobs: BlobStore,
  ref: FileRef,
  listEntries: boolean,
  onBadZip: (err: Error) => void,
): Promise<Pick<SensorLoggerStored, 'file' | 'format' | 'entries' | 'entriesTruncated'>> {
  if (!(await isZipFile(blobs, ref))) return { file: ref, format: 'other' };
  const file = {
    ...ref,
    contentType: 'application/zip',
    name: /\.zip$/i.test(ref.name) ? ref.name : `${ref.name}.zip`,
  };
  if (!listEntries) return { file, format: 'zip' };
  try {
    const entries = await listZip(blobs, ref);
    return {
      file,
      format: 'zip',
      entries: entries.slice(0, MAX_ENTRIES),
      ...(entries.length > MAX_ENTRIES && { entriesTruncated: true }),
    };
  } catch (err) {
    // why: the bytes are kept and announced anyway: a recording is never dropped for an unreadable directory.
    onBadZip(err as Error);
    return { file, format: 'zip' };
  }
}
