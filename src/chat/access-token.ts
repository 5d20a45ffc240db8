import { RemoteError } from '../errors';

/** Fetches and caches the app's OpenAPI access token (POST /v1.0/oauth2/accessToken). */
export interface AccessTokens {
  get(signal?: AbortSignal): Promise<string>;
  /** Forget the cached token (after a 401). */
  invalidate(): void;
}

export function createAccessTokens(opts: {
  apiBase: string;
  appKey: string;
  appSecret: string;
  fetch: typeof fetch;
  now: () => number;
}): AccessTokens {
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const fetchToken = async (signal?: AbortSignal) => {
    const res = await opts.fetch(`${opts.apiBase}/v1.0/oauth2/accessToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appKey: opts.appKey, appSecret: opts.appSecret }),
      signal,
    });
    const text = await res.text();
    if (!res.ok) throw new RemoteError('dingtalk accessToken', res.status, text);
    const body = JSON.parse(text) as { accessToken?: string; expireIn?: number };
    if (!body.accessToken) throw new RemoteError('dingtalk accessToken', res.status, text);
    // Refresh five minutes early, like the official SDKs.
    cached = { token: body.accessToken, expiresAt: opts.now() + ((body.expireIn ?? 7200) - 300) * 1000 };
    return body.accessToken;
  };
  return {
    async get(signal) {
      if (cached && cached.expiresAt > opts.now()) return cached.token;
      pending ??= fetchToken(signal).finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
