// The daemon's REST API, same origin. The page sends no token: it only reads, from the daemon's own
// origin on loopback, which the API allows without one (daemon/api/security.ts). Every failure is a
// PageError: the API's error body, or DAEMON_UNREACHABLE when nothing answered.
import type { ApiErrorBody } from './api-shapes.ts';
import { t } from './i18n.ts';

/** An API refusal or a failed fetch, as the page shows it. */
export class PageError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly messageZh: string | undefined,
    /** 0: the daemon was not reached. */
    readonly status: number,
  ) {
    super(message);
  }
}

export function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(path, init).then(
    (res) => res.text().then((text) => answer<T>(res, text)),
    () => {
      throw new PageError('DAEMON_UNREACHABLE', t('readers.unreachable'), undefined, 0);
    },
  );
}

function answer<T>(res: Response, text: string): T {
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const err: Partial<ApiErrorBody['error']> = (json as Partial<ApiErrorBody> | null)?.error || {};
    throw new PageError(err.code || `HTTP_${res.status}`, err.message || `HTTP ${res.status}`, err.messageZh, res.status);
  }
  return json as T;
}
