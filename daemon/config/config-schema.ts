// The daemon's configuration: its TypeScript shape, its defaults, and a validator that turns any
// parsed JSON/YAML value into a YikaConfig or throws a ConfigError naming the key path.
// CONFIG_SCHEMA (JSON Schema) documents the same shape for editors and the docs; the validator below is
// the authority (it is small, dependency-free and gives better messages than a generic one).
import { API_CONFIG_SCHEMA, type ApiConfigInput } from '../api/api-config.ts';
import { ConfigError } from './config-error.ts';

/** Second checks for static QR codes (qr/verifier.ts STATIC_CHECKS). */
const STATIC_CHECKS = ['id-card', 'password', 'sms', 'none'] as const;

export type SecurePolicy = 'required' | 'preferred' | 'off';

export interface SerialPortConfig {
  /** Device path, e.g. /dev/ttyUSB0 or a socat PTY link. */
  path: string;
  /** A name shown in the reader list (default: the device's model). */
  name?: string;
  baudRate: number;
  secure: SecurePolicy;
}

export interface YikaConfig {
  listen: { host: string; port: number };
  /** Start the built-in simulated reader (`--sim`). */
  sim: { enabled: boolean; seed: number; speed: number; profile?: string };
  devices: {
    serial: SerialPortConfig[];
    /** Also open serial devices whose USB vendor/product id is in the device table. */
    serialDiscovery: boolean;
    /** Secure-channel policy for discovered serial devices. */
    secure: SecurePolicy;
    pcsc: boolean;
    /** Vendor CAs trusted for the secure channel: the CA id written in device certificates and its SM2 public key (hex 04‖x‖y). */
    vendorCas: Array<{ id: string; publicKey: string }>;
    /**
     * Trust the simulator's TEST-ONLY vendor CA for serial ports that are pseudo-terminals (a yika-sim
     * --pty started for testing; `--trust-test-ca`). Never applied to a real device node, whatever
     * this says; the in-process simulator (--sim) trusts it without this.
     */
    trustTestCa: boolean;
    /** The host's SM2 private key (PEM file); absent = a new key each start (no pairing possible). */
    hostKeyFile?: string;
    /** Per-operation protocol timeouts in ms (default: protocol/timing.ts), e.g. {transmit: 10000}. */
    timeouts: Partial<Record<'hello' | 'slotStatus' | 'powerOn' | 'powerOff' | 'setParams' | 'transmit' | 'transmitBatch', number>>;
  };
  /** The SAM PIN (digits). Verified once per SAM power-on; never logged. */
  sam: { pin: string };
  readers: {
    /** How long a request waits for a reader that another request is using. */
    lockTimeoutMs: number;
    /** APDU trace on at start (switchable at run time). */
    trace: boolean;
    /** Mask response data (cardholder data) in the trace, not only secrets. */
    traceMaskData: boolean;
  };
  /** The HTTP API section, validated by daemon/api/api-config.ts (resolveApiConfig); `listen` lives at the top. */
  api: Omit<ApiConfigInput, 'listen'>;
  qr: {
    /** Pinned trust-anchor public keys (SM2, hex 04‖x‖y) that sign the QR trust bundle. */
    anchors: string[];
    /** The installed trust bundle's file (read at start, rewritten on install). */
    trustBundle?: string;
    /** URL polled for newer signed bundles. */
    trustUrl?: string;
    /** redis://… : replay guard and verdicts shared across desks. */
    redisUrl?: string;
    /** TEST-ONLY demo anchor and bundle (on with --sim). */
    demo: boolean;
    /** The second check a valid static code needs at this desk (QR.md §14): id-card (default), password, sms, none. */
    staticCheck?: 'id-card' | 'password' | 'sms' | 'none';
  };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** The front-desk page: how long it may show what it showed (passed to the page at load). */
  desk: DeskConfig;
  /**
   * Where the daemon keeps its state (the write journal). yikad defaults it to $STATE_DIRECTORY (systemd,
   * /var/lib/yika), else $XDG_STATE_HOME/yika, else ~/.local/state/yika; unset in an embedding = memory.
   */
  stateDir?: string;
}

export interface DeskConfig {
  /** Hide the cardholder after this long without a new read or a click/key on the page, even if the card stays in. */
  idleClearSeconds: number;
  /** Reset the QR verdict after this long (or when the code expires, or on the next card or scan). */
  qrResultSeconds: number;
  /** Without the daemon connection for this long, the page clears the cardholder and the QR verdict. */
  offlineGraceSeconds: number;
}

export const DEFAULT_DESK: Readonly<DeskConfig> = { idleClearSeconds: 120, qrResultSeconds: 30, offlineGraceSeconds: 3 };

export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 7611 };

export function defaultConfig(): YikaConfig {
  return {
    listen: { ...DEFAULT_LISTEN },
    sim: { enabled: false, seed: 1, speed: 0 },
    devices: { serial: [], serialDiscovery: true, secure: 'preferred', pcsc: true, vendorCas: [], trustTestCa: false, timeouts: {} },
    sam: { pin: '123456' },
    readers: { lockTimeoutMs: 10_000, trace: false, traceMaskData: true },
    api: {},
    qr: { anchors: [], demo: false },
    log: { level: 'info' },
    desk: { ...DEFAULT_DESK },
  };
}

const SECURE = ['required', 'preferred', 'off'] as const;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Parses "HOST:PORT", ":PORT", "PORT" or "[v6]:PORT". */
export function parseListen(text: string, source: string, path = 'listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m) throw new ConfigError(source, path, `expected HOST:PORT (e.g. 127.0.0.1:7611), got "${text}"`);
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(source, path, `port must be 0–65535, got ${m[3]}`);
  return { host: m[1] || m[2] || DEFAULT_LISTEN.host, port };
}

type Obj = Record<string, unknown>;

class Reader {
  constructor(readonly source: string) {}
  fail(path: string, problem: string): never {
    throw new ConfigError(this.source, path, problem);
  }
  object(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${kind(v)}`);
    return v as Obj;
  }
  known(o: Obj, path: string, keys: string[]): void {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) this.fail(join(path, k), `unknown key (allowed: ${keys.join(', ')})`);
    }
  }
  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, got ${kind(v)}`);
    return v;
  }
  string(v: unknown, path: string): string {
    if (typeof v !== 'string' || !v) this.fail(path, `expected a non-empty string, got ${kind(v)}`);
    return v;
  }
  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(path, `expected an integer ${min}–${max}, got ${kind(v)}`);
    return v;
  }
  number(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(path, `expected a number ${min}–${max}, got ${kind(v)}`);
    return v;
  }
  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !values.includes(v as T)) this.fail(path, `expected one of ${values.join(', ')}, got ${kind(v)}`);
    return v as T;
  }
  strings(v: unknown, path: string): string[] {
    if (!Array.isArray(v)) this.fail(path, `expected a list of strings, got ${kind(v)}`);
    return v.map((x, i) => this.string(x, `${path}[${i}]`));
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v.length > 40 ? 'a long string' : `"${v}"`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

/**
 * Applies a parsed config document (from a file) on top of `base`. Unknown keys are errors: a typo
 * in a key must not silently leave a default in place.
 */
export function applyConfigDocument(base: YikaConfig, doc: unknown, source: string): YikaConfig {
  const r: Reader = new Reader(source);
  const c = structuredClone(base);
  if (doc === null || doc === undefined) return c;
  const root = r.object(doc, '');
  r.known(root, '', ['listen', 'sim', 'devices', 'sam', 'readers', 'api', 'qr', 'log', 'desk', 'stateDir']);
  if (root.stateDir !== undefined) c.stateDir = r.string(root.stateDir, 'stateDir');

  if (root.listen !== undefined) {
    if (typeof root.listen === 'string') c.listen = parseListen(root.listen, source);
    else {
      const l = r.object(root.listen, 'listen');
      r.known(l, 'listen', ['host', 'port']);
      if (l.host !== undefined) c.listen.host = r.string(l.host, 'listen.host');
      if (l.port !== undefined) c.listen.port = r.int(l.port, 'listen.port', 0, 65535);
    }
  }
  if (root.sim !== undefined) {
    if (typeof root.sim === 'boolean') c.sim.enabled = root.sim;
    else {
      const s = r.object(root.sim, 'sim');
      r.known(s, 'sim', ['enabled', 'seed', 'speed', 'profile']);
      if (s.enabled !== undefined) c.sim.enabled = r.bool(s.enabled, 'sim.enabled');
      if (s.seed !== undefined) c.sim.seed = r.int(s.seed, 'sim.seed', 0, 2 ** 31 - 1);
      if (s.speed !== undefined) c.sim.speed = r.number(s.speed, 'sim.speed', 0, 100);
      if (s.profile !== undefined) c.sim.profile = r.string(s.profile, 'sim.profile');
    }
  }
  if (root.devices !== undefined) {
    const d = r.object(root.devices, 'devices');
    r.known(d, 'devices', ['serial', 'serialDiscovery', 'secure', 'pcsc', 'vendorCas', 'trustTestCa', 'hostKeyFile', 'timeouts']);
    if (d.timeouts !== undefined) {
      const t = r.object(d.timeouts, 'devices.timeouts');
      const ops = ['hello', 'slotStatus', 'powerOn', 'powerOff', 'setParams', 'transmit', 'transmitBatch'] as const;
      r.known(t, 'devices.timeouts', [...ops]);
      for (const op of ops) if (t[op] !== undefined) c.devices.timeouts[op] = r.int(t[op], `devices.timeouts.${op}`, 50, 600_000);
    }
    if (d.secure !== undefined) c.devices.secure = r.oneOf(d.secure, 'devices.secure', SECURE);
    if (d.serialDiscovery !== undefined) c.devices.serialDiscovery = r.bool(d.serialDiscovery, 'devices.serialDiscovery');
    if (d.pcsc !== undefined) c.devices.pcsc = r.bool(d.pcsc, 'devices.pcsc');
    if (d.trustTestCa !== undefined) c.devices.trustTestCa = r.bool(d.trustTestCa, 'devices.trustTestCa');
    if (d.hostKeyFile !== undefined) c.devices.hostKeyFile = r.string(d.hostKeyFile, 'devices.hostKeyFile');
    if (d.vendorCas !== undefined) {
      const list: unknown = d.vendorCas;
      if (!Array.isArray(list)) r.fail('devices.vendorCas', `expected a list of {id, publicKey}, got ${kind(list)}`);
      c.devices.vendorCas = list.map((entry: unknown, i: number) => {
        const p = `devices.vendorCas[${i}]`;
        const o = r.object(entry, p);
        r.known(o, p, ['id', 'publicKey']);
        const publicKey = r.string(o.publicKey, `${p}.publicKey`);
        if (!/^04[0-9a-fA-F]{128}$/.test(publicKey)) r.fail(`${p}.publicKey`, 'expected an uncompressed SM2 public key in hex (04 ‖ x ‖ y, 130 hex digits)');
        return { id: r.string(o.id, `${p}.id`), publicKey };
      });
    }
    if (d.serial !== undefined) {
      const list: unknown = d.serial;
      if (!Array.isArray(list)) r.fail('devices.serial', `expected a list of ports, got ${kind(list)}`);
      c.devices.serial = list.map((entry: unknown, i: number) => {
        const p = `devices.serial[${i}]`;
        if (typeof entry === 'string') return { path: entry, baudRate: 115200, secure: c.devices.secure };
        const o = r.object(entry, p);
        r.known(o, p, ['path', 'name', 'baudRate', 'secure']);
        if (o.path === undefined) r.fail(`${p}.path`, 'is required (the device path, e.g. /dev/ttyUSB0)');
        return {
          path: r.string(o.path, `${p}.path`),
          name: o.name === undefined ? undefined : r.string(o.name, `${p}.name`),
          baudRate: o.baudRate === undefined ? 115200 : r.int(o.baudRate, `${p}.baudRate`, 1200, 4_000_000),
          secure: o.secure === undefined ? c.devices.secure : r.oneOf(o.secure, `${p}.secure`, SECURE),
        };
      });
      const seen = new Set<string>();
      c.devices.serial.forEach((s, i) => {
        if (seen.has(s.path)) r.fail(`devices.serial[${i}].path`, `"${s.path}" is listed twice`);
        seen.add(s.path);
      });
    }
  }
  if (root.sam !== undefined) {
    const s = r.object(root.sam, 'sam');
    r.known(s, 'sam', ['pin']);
    if (s.pin !== undefined) {
      const pin: unknown = typeof s.pin === 'number' ? String(s.pin) : s.pin;
      // Never echo the PIN back in the message.
      if (typeof pin !== 'string' || !/^\d{4,12}$/.test(pin)) r.fail('sam.pin', 'expected 4–12 digits (quote it in YAML to keep leading zeros)');
      c.sam.pin = pin;
    }
  }
  if (root.readers !== undefined) {
    const o = r.object(root.readers, 'readers');
    r.known(o, 'readers', ['lockTimeoutMs', 'trace', 'traceMaskData']);
    if (o.lockTimeoutMs !== undefined) c.readers.lockTimeoutMs = r.int(o.lockTimeoutMs, 'readers.lockTimeoutMs', 1, 600_000);
    if (o.trace !== undefined) c.readers.trace = r.bool(o.trace, 'readers.trace');
    if (o.traceMaskData !== undefined) c.readers.traceMaskData = r.bool(o.traceMaskData, 'readers.traceMaskData');
  }
  if (root.api !== undefined) {
    // Shape only here; resolveApiConfig (the API platform's) checks values once everything is merged.
    const a = r.object(root.api, 'api');
    const { listen: _listen, ...apiProperties } = API_CONFIG_SCHEMA.properties;
    r.known(a, 'api', Object.keys(apiProperties));
    c.api = { ...c.api, ...(a as Omit<ApiConfigInput, 'listen'>) };
  }
  if (root.qr !== undefined) {
    const q = r.object(root.qr, 'qr');
    r.known(q, 'qr', ['anchors', 'trustBundle', 'trustUrl', 'redisUrl', 'demo', 'staticCheck']);
    if (q.anchors !== undefined) {
      c.qr.anchors = r.strings(q.anchors, 'qr.anchors');
      c.qr.anchors.forEach((k, i) => {
        if (!/^04[0-9a-fA-F]{128}$/.test(k)) r.fail(`qr.anchors[${i}]`, 'expected an uncompressed SM2 public key in hex (04 ‖ x ‖ y, 130 hex digits)');
      });
    }
    if (q.demo !== undefined) c.qr.demo = r.bool(q.demo, 'qr.demo');
    if (q.trustBundle !== undefined) c.qr.trustBundle = r.string(q.trustBundle, 'qr.trustBundle');
    if (q.trustUrl !== undefined) c.qr.trustUrl = r.string(q.trustUrl, 'qr.trustUrl');
    if (q.redisUrl !== undefined) c.qr.redisUrl = r.string(q.redisUrl, 'qr.redisUrl');
    if (q.staticCheck !== undefined) c.qr.staticCheck = r.oneOf(q.staticCheck, 'qr.staticCheck', STATIC_CHECKS);
  }
  if (root.log !== undefined) {
    const l = r.object(root.log, 'log');
    r.known(l, 'log', ['level']);
    if (l.level !== undefined) c.log.level = r.oneOf(l.level, 'log.level', LEVELS);
  }
  if (root.desk !== undefined) {
    const o = r.object(root.desk, 'desk');
    r.known(o, 'desk', ['idleClearSeconds', 'qrResultSeconds', 'offlineGraceSeconds']);
    if (o.idleClearSeconds !== undefined) c.desk.idleClearSeconds = r.int(o.idleClearSeconds, 'desk.idleClearSeconds', 5, 3600);
    if (o.qrResultSeconds !== undefined) c.desk.qrResultSeconds = r.int(o.qrResultSeconds, 'desk.qrResultSeconds', 2, 600);
    if (o.offlineGraceSeconds !== undefined) c.desk.offlineGraceSeconds = r.int(o.offlineGraceSeconds, 'desk.offlineGraceSeconds', 0, 60);
  }
  return c;
}

/** JSON Schema of the configuration file, for editors and docs (`yikad --print-config-schema`). */
export const CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'yikad configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: { oneOf: [{ type: 'string', description: 'HOST:PORT' }, { type: 'object', properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 0, maximum: 65535 } }, additionalProperties: false }] },
    sim: { oneOf: [{ type: 'boolean' }, { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' }, seed: { type: 'integer' }, speed: { type: 'number', minimum: 0 }, profile: { type: 'string' } } }] },
    devices: {
      type: 'object',
      additionalProperties: false,
      properties: {
        serial: {
          type: 'array',
          items: {
            oneOf: [
              { type: 'string' },
              { type: 'object', required: ['path'], additionalProperties: false, properties: { path: { type: 'string' }, name: { type: 'string' }, baudRate: { type: 'integer' }, secure: { enum: SECURE } } },
            ],
          },
        },
        serialDiscovery: { type: 'boolean' },
        secure: { enum: SECURE },
        pcsc: { type: 'boolean' },
        vendorCas: {
          type: 'array',
          items: { type: 'object', required: ['id', 'publicKey'], additionalProperties: false, properties: { id: { type: 'string' }, publicKey: { type: 'string', pattern: '^04[0-9a-fA-F]{128}$' } } },
        },
        trustTestCa: { type: 'boolean', description: "TEST ONLY: trust the simulator's TEST-ONLY CA for serial ports that are pseudo-terminals (yika-sim --pty). Never applied to a real device node." },
        hostKeyFile: { type: 'string' },
        timeouts: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(['hello', 'slotStatus', 'powerOn', 'powerOff', 'setParams', 'transmit', 'transmitBatch'].map((k) => [k, { type: 'integer', minimum: 50 }])),
        },
      },
    },
    sam: { type: 'object', additionalProperties: false, properties: { pin: { type: 'string', pattern: '^\\d{4,12}$' } } },
    readers: { type: 'object', additionalProperties: false, properties: { lockTimeoutMs: { type: 'integer', minimum: 1 }, trace: { type: 'boolean' }, traceMaskData: { type: 'boolean' } } },
    api: API_CONFIG_SCHEMA,
    qr: {
      type: 'object',
      additionalProperties: false,
      properties: {
        anchors: { type: 'array', items: { type: 'string', pattern: '^04[0-9a-fA-F]{128}$' } },
        trustBundle: { type: 'string' },
        trustUrl: { type: 'string' },
        redisUrl: { type: 'string' },
        demo: { type: 'boolean' },
        staticCheck: { enum: [...STATIC_CHECKS], description: 'The second check a valid static code needs at this desk (printed or screenshotted codes): id-card (default), password, sms, none' },
      },
    },
    log: { type: 'object', additionalProperties: false, properties: { level: { enum: LEVELS } } },
    desk: {
      type: 'object',
      additionalProperties: false,
      description: 'The front-desk page (what it shows, and for how long).',
      properties: {
        idleClearSeconds: { type: 'integer', minimum: 5, maximum: 3600, default: DEFAULT_DESK.idleClearSeconds, description: 'Hide the cardholder after this many seconds without a new read or a click/key on the page (the card may still be in the reader).' },
        qrResultSeconds: { type: 'integer', minimum: 2, maximum: 600, default: DEFAULT_DESK.qrResultSeconds, description: 'Reset the QR verdict after this many seconds (earlier when the code expires, or on the next card or scan).' },
        offlineGraceSeconds: { type: 'integer', minimum: 0, maximum: 60, default: DEFAULT_DESK.offlineGraceSeconds, description: 'Clear the cardholder and the QR verdict when the page has lost the daemon for this many seconds.' },
      },
    },
    stateDir: { type: 'string', description: 'State directory (the write journal of interrupted card writes). Default $STATE_DIRECTORY, else $XDG_STATE_HOME/yika, else ~/.local/state/yika.' },
  },
} as const;
