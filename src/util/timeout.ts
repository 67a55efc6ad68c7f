/**
 * `work`'s result, or `onTimeout()`'s once `ms` pass first (throw in it to reject). The timer is
 * cleared either way, so nothing keeps the process alive; `work` itself is not cancelled.
 */
export async function withTimeout<T, U = never>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => U,
): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err as Error);
      }
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
