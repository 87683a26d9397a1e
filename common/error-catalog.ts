// One catalogue of every stable error code in the project. Each module declares its codes once
// (defineErrorCodes at module load); the daemon maps a code's kind to an HTTP status in exactly one
// place (daemon/api/error-map.ts) and the API docs list the catalogue.

export type ErrorKind =
  | 'bad_request' // 400: the input is malformed or invalid
  | 'unauthorized' // 401: a token is missing or wrong
  | 'forbidden' // 403: origin not allowed, operation refused by policy
  | 'not_found' // 404: no such reader, slot, file, key …
  | 'conflict' // 409: state does not allow it now (card not present, reader busy …)
  | 'too_large' // 413
  | 'unprocessable' // 422: well-formed but refused by the card or a verifier (auth failed, not a health card …)
  | 'rate_limited' // 429
  | 'unavailable' // 503: a device, a backend or a store is down
  | 'timeout' // 504: a device or card did not answer in time
  | 'internal'; // 500

export interface ErrorCodeInfo {
  kind: ErrorKind;
  /** What it means and what the user should do, for the docs. */
  description: string;
  /**
   * The same in Chinese, written for front-desk staff: shown by the page and sent as `messageZh` in
   * every API error body. Generic per code (the English `message` of an error may add specifics).
   */
  zh: string;
}

const catalog = new Map<string, ErrorCodeInfo & { module: string }>();

export function defineErrorCodes<T extends Record<string, ErrorCodeInfo>>(module: string, codes: T): { [K in keyof T]: K } {
  const names = {} as { [K in keyof T]: K };
  for (const [code, info] of Object.entries(codes)) {
    const existing = catalog.get(code);
    if (existing && existing.module !== module) {
      throw new Error(`error code ${code} defined twice (${existing.module}, ${module})`);
    }
    if (!info.zh || !/[\u4e00-\u9fff]/.test(info.zh)) throw new Error(`error code ${code} has no Chinese text (zh)`);
    catalog.set(code, { ...info, module });
    (names as Record<string, string>)[code] = code;
  }
  return names;
}

export function errorCodeInfo(code: string): (ErrorCodeInfo & { module: string }) | undefined {
  return catalog.get(code);
}

/** The Chinese text of a catalogued code (undefined for an uncatalogued one). */
export function errorTextZh(code: string): string | undefined {
  return catalog.get(code)?.zh;
}

export function allErrorCodes(): Array<ErrorCodeInfo & { module: string; code: string }> {
  return [...catalog.entries()].map(([code, info]) => ({ code, ...info })).sort((a, b) => a.code.localeCompare(b.code));
}
