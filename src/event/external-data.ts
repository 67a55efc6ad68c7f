import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { isBlobUri, type BlobStore, type FileRef } from '../blobs/blob-store.js';
import type { Envelope, StudyhookEvent } from './build-event.js';

/**
 * Keeps large event data out of the queue (the claim-check pattern, CloudEvents' `dataref`):
 * data that serialises to more than `maxBytes` is written to the blob store, durably, and the
 * queued event carries `data: null` and `dataref: "blob:<id>"` instead. why: BullMQ stores a job's
 * data once per sink and JSON-encodes it on every move, so a 16 MiB trial would cost Redis memory
 * and CPU several times over; a reference costs a few bytes. Runs before the reply, like the publish.
 */
export async function externaliseLargeData(
  envelopes: readonly Envelope[],
  blobs: BlobStore,
  maxBytes: number,
): Promise<FileRef[]> {
  const stored: FileRef[] = [];
  for (const env of envelopes) {
    const json = JSON.stringify(env.event.data ?? null);
    if (Buffer.byteLength(json) <= maxBytes) continue;
    const ref = await blobs.put(Readable.from([Buffer.from(json)]), {
      name: `${env.event.id}.json`,
      contentType: 'application/json',
    });
    stored.push(ref);
    env.event.dataref = ref.uri;
    env.event.data = null;
  }
  return stored;
}

/** The event as sinks see it: with `data` loaded back from its `dataref` when it was kept outside the queue. */
export async function withData(event: StudyhookEvent, blobs: BlobStore): Promise<StudyhookEvent> {
  if (event.data !== null || typeof event.dataref !== 'string' || !isBlobUri(event.dataref))
    return event;
  const data = JSON.parse(await text(blobs.open(event.dataref))) as unknown;
  return { ...event, data };
}
