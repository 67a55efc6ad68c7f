/**
 * An access token fetched once, shared by concurrent callers, and renewed `earlySeconds` before it
 * expires (so a call never carries an expired one). `invalidate()` after a 401 forces a new one.
 */
export function createTokenCache(
  fetchToken: () => Promise<{ token: string; expiresIn: number }>,
  earlySeconds: number,
) {
  let cached: { token: string; until: number } | undefined;
  let pending: Promise<string> | undefined;
  const refresh = async (): Promise<string> => {
    const t = await fetchToken();
    cached = { token: t.token, until: Date.now() + Math.max(0, t.expiresIn - earlySeconds) * 1000 };
    return t.token;
  };
  return {
    get(): Promise<string> {
      if (cached && Date.now() < cached.until) return Promise.resolve(cached.token);
      pending ??= refresh().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate(): void {
      cached = undefined;
    },
  };
}
