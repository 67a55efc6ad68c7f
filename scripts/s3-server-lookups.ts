// s3rver looks up the bucket on disk for every request: a stat of its folder, and a read of its
// CORS and website configuration files (absent here, so two failed opens). S3 and MinIO hold a
// bucket's configuration in memory; for the test server those three file system calls (each a
// thread-pool round trip) were most of what a request cost beyond its bytes, and a multipart upload
// makes one request per part where a PUT makes one. Here the answers are kept until the bucket or
// that configuration is written or deleted through the server.
import type { Store } from './s3-server-store.js';

/** Caches `store`'s bucket and bucket-configuration lookups; its writes and deletes invalidate them. */
export function cacheBucketLookups(store: Store): void {
  const original = {
    getBucket: store.getBucket.bind(store),
    putBucket: store.putBucket.bind(store),
    deleteBucket: store.deleteBucket.bind(store),
    getSubresource: store.getSubresource.bind(store),
    putSubresource: store.putSubresource.bind(store),
    deleteSubresource: store.deleteSubresource.bind(store),
  };
  const buckets = new Map<string, Promise<unknown>>();
  const configs = new Map<string, Promise<unknown>>();
  const forget = (bucket: string): void => {
    buckets.delete(bucket);
    for (const k of configs.keys()) if (k.startsWith(`${bucket}/`)) configs.delete(k);
  };
  const cached = <T>(map: Map<string, Promise<unknown>>, k: string, load: () => Promise<T>) => {
    let p = map.get(k) as Promise<T> | undefined;
    if (!p) {
      p = load();
      map.set(k, p);
      // why: a failure is not kept, nor a missing bucket (it may be created by another server).
      p.then(
        (r) => void (r === null && map === buckets && map.delete(k)),
        () => map.delete(k),
      );
    }
    return p;
  };

  store.getBucket = (b) => cached(buckets, b, () => original.getBucket(b));
  store.putBucket = async (b) => {
    forget(b);
    return original.putBucket(b).finally(() => forget(b));
  };
  store.deleteBucket = async (b) => {
    forget(b);
    return original.deleteBucket(b).finally(() => forget(b));
  };
  // Only a bucket's own configuration (key undefined) is kept; an object's (its tagging) is read each time.
  store.getSubresource = (b, key, type) =>
    key === undefined
      ? cached(configs, `${b}/${type}`, () => original.getSubresource(b, key, type))
      : original.getSubresource(b, key, type);
  store.putSubresource = async (b, key, resource) => {
    configs.delete(`${b}/${resource.type}`);
    return original
      .putSubresource(b, key, resource)
      .finally(() => configs.delete(`${b}/${resource.type}`));
  };
  store.deleteSubresource = async (b, key, type) => {
    configs.delete(`${b}/${type}`);
    return original.deleteSubresource(b, key, type).finally(() => configs.delete(`${b}/${type}`));
  };
}
