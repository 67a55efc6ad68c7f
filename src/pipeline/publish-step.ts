import type { BlobStore, FileRef } from '../blobs/blob-store.js';
import type { Envelope } from '../event/build-event.js';
import { externaliseLargeData } from '../event/external-data.js';
import type { Publisher } from '../queue/publisher.js';

/**
 * The last step of the pipeline, shared by ingest, quarantine republish and `ctx.emit`: large
 * data goes to the blob store (a dataref), then every event is made durable in the queues.
 * Files it stored are added to `stored`, so a caller whose request then fails can remove them.
 */
export function publishStep(
  publisher: Publisher,
  blobs: BlobStore,
  maxQueuedDataBytes: number,
  stored: FileRef[] = [],
): (envelopes: Envelope[]) => Promise<void> {
  return async (envelopes) => {
    stored.push(...(await externaliseLargeData(envelopes, blobs, maxQueuedDataBytes)));
    await publisher.publish(envelopes);
  };
}
