// The typed client a HIS (browser or Node) imports to talk to a Yika daemon, and the one the `yika`
// CLI uses. No Node-only imports at the top: it runs in browsers with fetch and WebSocket; in
// Node 20 (no global WebSocket) it loads `ws` on demand or takes a WebSocket class as an option.
import type {
  ApiErrorBody, ApduRequest, ApduResult, BatchCommandRequest, ErrorCatalog, BatchResult, HealthCardQueryParams, HealthCardRead, HealthCardWriteRequest, HealthCardWriteResult, HealthReport, InterruptedWrite,
  ItemsQueryParams, ItemsRead, ItemValues, LeaseRequest, PowerRequest, QrStats, QrTrust, QrVerifyResult, Reader, ReaderLease, ReaderSlot, StreamHello, VerifyRequest, YikaEvent, YikaEventType,
} from './api-types.ts';

export type * from './api-types.ts';

/** Chinese text of the client's own codes (the daemon's come in messageZh). */
const CLIENT_ZH: Record<string, string> = {
  DAEMON_TIMEOUT: 'Yika 服务响应超时，请稍后重试。',
  DAEMON_UNREACHABLE: '无法连接 Yika 服务，请确认 yikad 正在运行。',
  BAD_RESPONSE: 'Yika 服务返回了无法识别的应答。',
};

/** An error answer of the daemon ({error:{code,message,messageZh,details}}), or a client-side failure. */
export class YikaApiError extends Error {
  /** The daemon's stable code, or DAEMON_UNREACHABLE / DAEMON_TIMEOUT / BAD_RESPONSE from the client. */
  readonly code: string;
  /** HTTP status (0 when the daemon was not reached). */
  readonly status: number;
  readonly details?: Record<string, unknown>;
  /** The code's Chinese text (the daemon's messageZh, or the client's own for its codes). */
  readonly messageZh: string;
  constructor(code: string, message: string, status: number, details?: Record<string, unknown>, messageZh?: string) {
    super(message);
    this.name = 'YikaApiError';
    this.code = code;
    this.status = status;
    this.details = details;
    this.messageZh = messageZh ?? CLIENT_ZH[code] ?? CLIENT_ZH.BAD_RESPONSE;
  }
}

/** The subset of the WebSocket API the client needs (browser WebSocket and `ws` both fit). */
interface SocketLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}
export type WebSocketClass = new (url: string, protocols?: string | string[], options?: { headers?: Record<string, string> }) => SocketLike;

export interface YikaClientOptions {
  /** Default http://127.0.0.1:7611 (in a browser page served by the daemon: its own origin). */
  baseUrl?: string;
  /**
   * Bearer token: needed from another machine, and from any machine for writes, raw APDUs, power,
   * unmasked traces and trust installs (docs/API.md "Capabilities"). Reading needs none on loopback.
   */
  token?: string;
  /** Per-request timeout; a card read takes well under a second. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  WebSocket?: WebSocketClass;
}

export interface EventsOptions {
  types?: YikaEventType[];
  /** Resume after this sequence number (e.g. the last one a previous page saw). */
  after?: number;
  /** With the client's token: qr.scanned events of payment, insurance and ID codes carry result.text (QR.md §13). */
  reveal?: 'codes';
  /** Called on every (re)connection; `complete: false` means events were missed: re-read state. */
  onConnect?: (hello: StreamHello) => void;
  /** Called when the connection drops (the client reconnects by itself). */
  onDisconnect?: (info: { code: number; reason: string; retryInMs: number }) => void;
  /** Reconnect backoff bounds. Default 250 ms … 10 s. */
  minRetryMs?: number;
  maxRetryMs?: number;
}

export interface EventSubscription {
  /** The last sequence number received (resume position). */
  readonly position: number | undefined;
  close(): void;
}

export class YikaClient {
  readonly baseUrl: string;
  private readonly token?: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly wsClass?: WebSocketClass;

  constructor(options: YikaClientOptions = {}) {
    const fallback = typeof location !== 'undefined' && /^https?:$/.test(location.protocol) ? location.origin : 'http://127.0.0.1:7611';
    this.baseUrl = (options.baseUrl ?? fallback).replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.wsClass = options.WebSocket;
  }

  // ---- readers -----------------------------------------------------------------------------------
  async readers(): Promise<Reader[]> {
    return (await this.request<{ readers: Reader[] }>('GET', '/v1/readers')).readers;
  }
  reader(id: string): Promise<Reader> {
    return this.request('GET', `/v1/readers/${enc(id)}`);
  }
  power(id: string, slot: number, action: PowerRequest['action'], options: Omit<PowerRequest, 'action'> = {}): Promise<ReaderSlot> {
    return this.request('POST', `/v1/readers/${enc(id)}/slots/${slot}/power`, { action, ...options });
  }
  /** One raw APDU (hex) to the card in a slot (1 = user card, 0x11 = SAM1); with `lease`, under that lease. */
  apdu(id: string, slot: number, apdu: string, options: Omit<ApduRequest, 'apdu'> = {}): Promise<ApduResult> {
    return this.request('POST', `/v1/readers/${enc(id)}/slots/${slot}/apdu`, { apdu, ...options });
  }

  // ---- leases: the reader held across requests -----------------------------------------------------
  /** Waits for the reader (up to waitMs, else READER_BUSY) and holds it until release or idleMs without a request. */
  acquireLease(id: string, options: LeaseRequest = {}): Promise<ReaderLease> {
    return this.request('POST', `/v1/readers/${enc(id)}/lease`, options);
  }
  renewLease(id: string, lease: string): Promise<ReaderLease> {
    return this.request('POST', `/v1/readers/${enc(id)}/lease/renew`, { lease });
  }
  releaseLease(id: string, lease: string): Promise<{ released: boolean }> {
    return this.request('POST', `/v1/readers/${enc(id)}/lease/release`, { lease });
  }
  /**
   * Runs `fn` with the reader leased and releases it afterwards (also when fn throws):
   * `await yika.withLease('sim-1', (lease) => yika.apdu('sim-1', 1, SELECT, { lease }).then(() => yika.apdu('sim-1', 1, READ, { lease })))`.
   */
  async withLease<T>(id: string, fn: (lease: string) => Promise<T>, options: LeaseRequest = {}): Promise<T> {
    const { lease } = await this.acquireLease(id, options);
    try {
      return await fn(lease);
    } finally {
      await this.releaseLease(id, lease).catch(() => undefined); // already expired: nothing to release
    }
  }
  /**
   * Several raw APDUs under one lock; stops at the first unexpected status word. Compare
   * `responses.length` with the commands sent: `stoppedAt` or `interrupted` (the card left between
   * commands; the responses are what ran) says why it stopped early.
   */
  apduBatch(id: string, slot: number, commands: BatchCommandRequest[], options: { lease?: string } = {}): Promise<BatchResult> {
    return this.request('POST', `/v1/readers/${enc(id)}/slots/${slot}/batch`, { commands, ...options });
  }

  // ---- health card -------------------------------------------------------------------------------
  /** The whole card decoded, or only some files (e.g. ['DDF1/EF05', 'DDF1/EF06', 'DDF1/EF07']). */
  readHealthCard(id: string, options: { files?: string[]; slot?: HealthCardQueryParams['slot'] } = {}): Promise<HealthCardRead> {
    const q = query({ files: options.files?.join(','), slot: options.slot });
    return this.request('GET', `/v1/readers/${enc(id)}/healthcard${q}`);
  }
  /** Items by number (1–384), like the vendor DLLs; format 'pipe' answers the values joined by | as one string. */
  readItems(id: string, ids: number[], options?: Omit<ItemsQueryParams, 'ids' | 'format' | 'charset'> & { format?: 'json' }): Promise<ItemsRead>;
  /** format 'pipe' gives the text (decoded here); `charset` matters to clients that read the bytes themselves (curl, an old HIS). */
  readItems(id: string, ids: number[], options: Omit<ItemsQueryParams, 'ids' | 'format'> & { format: 'pipe' }): Promise<string>;
  readItems(id: string, ids: number[], options: Omit<ItemsQueryParams, 'ids'> = {}): Promise<ItemsRead | string> {
    const q = query({ ids: ids.join(','), format: options.format, charset: options.charset, slot: options.slot, record: options.record });
    return this.request('GET', `/v1/readers/${enc(id)}/healthcard/items${q}`);
  }
  /**
   * Writes items ({ 16: 'new address' }) and/or records, visits and the photo. Values are validated
   * before the card is touched; a failure midway is a PARTIAL_WRITE error whose details (PartialWriteDetails)
   * list every unit as written, uncertain or notWritten: read the card back before retrying.
   */
  writeItems(id: string, items: ItemValues | HealthCardWriteRequest, options: { slot?: number } = {}): Promise<HealthCardWriteResult> {
    const body = isWriteRequest(items) ? items : { items };
    return this.request('PUT', `/v1/readers/${enc(id)}/healthcard/items${query({ slot: options.slot })}`, body);
  }

  /** Card writes cut short when the daemon last stopped (crash, kill -9), until acknowledged. */
  async interruptedWrites(): Promise<InterruptedWrite[]> {
    return (await this.request<{ interrupted: InterruptedWrite[] }>('GET', '/v1/writes/interrupted')).interrupted;
  }
  /** After reading the card back: the interrupted write is no longer reported (WRITE_NOT_FOUND if unknown). */
  async acknowledgeInterruptedWrite(id: string): Promise<InterruptedWrite> {
    return (await this.request<{ acknowledged: InterruptedWrite }>('POST', `/v1/writes/interrupted/${enc(id)}/ack`)).acknowledged;
  }

  // ---- QR ----------------------------------------------------------------------------------------
  /** Verifies a scanned text; every outcome (valid or not) resolves with { ok, code, message, … }. */
  verifyQr(text: string, options: Omit<VerifyRequest, 'text'> = {}): Promise<QrVerifyResult> {
    return this.request('POST', '/v1/qr/verify', { text, ...options });
  }
  /** The full result (with the card id) of a recent scanner read, by the scanId of its qr.scanned event. */
  qrScan(scanId: string): Promise<QrVerifyResult> {
    return this.request('GET', `/v1/qr/scans/${enc(scanId)}`);
  }
  qrStats(): Promise<QrStats> {
    return this.request('GET', '/v1/qr/stats');
  }
  qrTrust(): Promise<QrTrust> {
    return this.request('GET', '/v1/qr/trust');
  }

  // ---- daemon ------------------------------------------------------------------------------------
  health(): Promise<HealthReport> {
    return this.request('GET', '/v1/health');
  }
  /** The error catalogue: every code with its HTTP status and Chinese text. */
  errors(): Promise<ErrorCatalog> {
    return this.request('GET', '/v1/errors');
  }

  /** Low-level call: any route, JSON in and out, errors as YikaApiError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: ctrl.signal });
    } catch (e) {
      clearTimeout(timer);
      if (ctrl.signal.aborted) throw new YikaApiError('DAEMON_TIMEOUT', `The Yika daemon did not answer within ${this.timeoutMs} ms`, 0);
      throw new YikaApiError('DAEMON_UNREACHABLE', `The Yika daemon at ${this.baseUrl} is not reachable: is yikad running?`, 0, { cause: String((e as Error)?.message ?? e) });
    }
    let text: string;
    try {
      // Text answers may be GBK or GB 18030 (format=pipe&charset=…): decode by the declared charset.
      const charset = /;\s*charset=([\w-]+)/i.exec(res.headers.get('content-type') ?? '')?.[1]?.toLowerCase();
      text = charset && charset !== 'utf-8' ? new TextDecoder(charset).decode(await res.arrayBuffer()) : await res.text();
    } finally {
      clearTimeout(timer);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      if (res.ok) return text as T; // text routes (e.g. the trace as text)
      throw new YikaApiError('BAD_RESPONSE', `HTTP ${res.status} with a body that is not JSON`, res.status);
    }
    if (!res.ok) {
      const err = (json as Partial<ApiErrorBody> | undefined)?.error;
      throw new YikaApiError(err?.code ?? 'BAD_RESPONSE', err?.message ?? `HTTP ${res.status}`, res.status, err?.details, err?.messageZh);
    }
    return json as T;
  }

  // ---- events ------------------------------------------------------------------------------------
  /**
   * Subscribes to the event stream; reconnects with backoff and resumes after the last event seen,
   * so a dropped connection misses nothing still in the daemon's history.
   */
  events(options: EventsOptions, onEvent: (event: YikaEvent) => void): EventSubscription {
    let position = options.after;
    let closed = false;
    let socket: SocketLike | undefined;
    let retry = options.minRetryMs ?? 250;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const maxRetry = options.maxRetryMs ?? 10_000;

    const open = async (): Promise<void> => {
      if (closed) return;
      const params = new URLSearchParams();
      if (options.types?.length) params.set('types', options.types.join(','));
      if (position !== undefined) params.set('after', String(position));
      if (options.reveal) params.set('reveal', options.reveal);
      const url = `${this.baseUrl.replace(/^http/, 'ws')}/v1/events${params.size ? `?${params}` : ''}`;
      let WS: WebSocketClass;
      try {
        WS = await this.webSocketClass();
      } catch (e) {
        options.onDisconnect?.({ code: 0, reason: String((e as Error).message), retryInMs: maxRetry });
        return;
      }
      if (closed) return;
      const s = this.token && !isBrowser() ? new WS(url, undefined, { headers: { authorization: `Bearer ${this.token}` } }) : new WS(url);
      socket = s;
      s.onmessage = (ev) => {
        let m: { type?: string; seq?: number } & Record<string, unknown>;
        try {
          m = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data));
        } catch {
          return;
        }
        if (m.type === 'stream.hello') {
          retry = options.minRetryMs ?? 250;
          const hello = m as unknown as StreamHello;
          if (position !== undefined && hello.position < position) {
            // The daemon restarted (its sequence starts again): what we missed cannot be replayed.
            position = undefined;
            options.onConnect?.({ ...hello, resume: { after: hello.resume?.after ?? 0, complete: false } });
            return;
          }
          options.onConnect?.(hello);
          return;
        }
        if (m.type === 'stream.heartbeat' || typeof m.seq !== 'number') return;
        if (position !== undefined && m.seq <= position) return; // already seen (replay overlap)
        position = m.seq;
        onEvent(m as unknown as YikaEvent);
      };
      s.onerror = () => undefined; // onclose follows
      s.onclose = (ev) => {
        socket = undefined;
        if (closed) return;
        const wait = retry;
        retry = Math.min(maxRetry, retry * 2);
        options.onDisconnect?.({ code: ev.code, reason: ev.reason, retryInMs: wait });
        timer = setTimeout(() => void open(), wait);
      };
    };
    void open();
    return {
      get position() {
        return position;
      },
      close: () => {
        closed = true;
        if (timer) clearTimeout(timer);
        socket?.close(1000, 'client closed');
      },
    };
  }

  private async webSocketClass(): Promise<WebSocketClass> {
    if (this.wsClass) return this.wsClass;
    const g = (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
    if (g) return g;
    const name = 'ws'; // a variable keeps browser bundlers from trying to include it
    const mod = (await import(name)) as { default: WebSocketClass };
    return mod.default;
  }
}

const WRITE_KEYS = ['items', 'photo', 'addAllergies', 'addImmunisations', 'inpatient', 'outpatient', 'eraseInpatient', 'eraseOutpatient'];
function isWriteRequest(v: object): v is HealthCardWriteRequest {
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => WRITE_KEYS.includes(k));
}

function query(params: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function isBrowser(): boolean {
  return typeof window !== 'undefined' && typeof document !== 'undefined';
}
