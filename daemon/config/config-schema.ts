// The daemon's configuration: its TypeScript shape, its defaults, and CONFIG_SCHEMA, the one JSON
// Schema that IS the configuration file's definition: `yikad --print-config-schema` prints it, ajv
// validates files with it (config-validator.ts), and the docs describe it. applyConfigDocument merges
// a document that passed it.
import { API_CONFIG_SCHEMA, LISTEN_PATTERN, parseListen as parseListenText, type ApiConfigInput } from '../api/api-config.ts';
import { ApiConfigError } from '../api/api-errors.ts';
import { STATIC_CHECKS, type StaticCheck } from '../../qr/code-kind.ts';
import { ConfigError } from './config-error.ts';
import { validateConfigDocument } from './config-validator.ts';


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
    staticCheck?: StaticCheck;
    /** An expired trust bundle (past nextUpdate + grace): refuse codes ('fail', default) or verify with a warning ('degrade'). QR.md. */
    expiredPolicy?: 'fail' | 'degrade';
    /** Grace after the bundle's nextUpdate before it counts as expired (default 72 h). */
    graceSeconds?: number;
    /** Warn (TRUSTLIST_STALE) when the bundle is older than this (default 24 h). */
    staleAfterSeconds?: number;
    /** How often trustUrl is polled. */
    trustRefreshSeconds?: number;
    /** Redis unreachable: check replay at this desk only ('local', default) or refuse dynamic codes ('fail'). */
    sharedDownPolicy?: 'local' | 'fail';
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

const DEFAULT_LISTEN = { host: '127.0.0.1', port: 7611 };

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
const TIMEOUT_OPS = ['hello', 'slotStatus', 'powerOn', 'powerOff', 'setParams', 'transmit', 'transmitBatch'] as const;
/** An uncompressed SM2 public key in hex (04 ‖ x ‖ y). */
export const SM2_KEY_PATTERN = '^04[0-9a-fA-F]{128}$';
/** A SAM PIN: digits only, so a YAML number (which drops leading zeros) is refused. */
export const PIN_PATTERN = '^\\d{4,12}$';

/** Parses a listen address (api-config.ts parseListen, the one grammar); errors name `source` and `path`. */
export function parseListen(text: string, source: string, path = 'listen'): { host: string; port: number } {
  try {
    return parseListenText(text);
  } catch (e) {
    if (e instanceof ApiConfigError) throw new ConfigError(source, path, String(e.details?.problem ?? e.message));
    throw e;
  }
}

// The parts of a document that passed CONFIG_SCHEMA, as the merge below reads them.
type SerialEntry = string | { path: string; name?: string; baudRate?: number; secure?: SecurePolicy };
interface ConfigDocument {
  listen?: string | { host?: string; port?: number };
  sim?: boolean | Partial<YikaConfig['sim']>;
  devices?: Partial<Omit<YikaConfig['devices'], 'serial'>> & { serial?: SerialEntry[] };
  sam?: Partial<YikaConfig['sam']>;
  readers?: Partial<YikaConfig['readers']>;
  api?: YikaConfig['api'];
  qr?: Partial<YikaConfig['qr']>;
  log?: Partial<YikaConfig['log']>;
  desk?: Partial<DeskConfig>;
  stateDir?: string;
}

/**
 * Applies a parsed config document (from a file, or a fragment built from a flag or variable) on top
 * of `base`. The document is validated first (CONFIG_SCHEMA + the post-checks, config-validator.ts):
 * an unknown key is an error, so a typo never silently leaves a default in place.
 */
export function applyConfigDocument(base: YikaConfig, doc: unknown, source: string): YikaConfig {
  const c = structuredClone(base);
  if (doc === null || doc === undefined) return c;
  validateConfigDocument(doc, source);
  const d = doc as ConfigDocument;
  if (typeof d.listen === 'string') c.listen = parseListen(d.listen, source);
  else if (d.listen) Object.assign(c.listen, d.listen);
  if (typeof d.sim === 'boolean') c.sim.enabled = d.sim;
  else if (d.sim) Object.assign(c.sim, d.sim);
  if (d.devices) {
    const { serial, timeouts, ...rest } = d.devices;
    Object.assign(c.devices, rest); // secure first: serial entries without their own policy take it
    if (timeouts) Object.assign(c.devices.timeouts, timeouts);
    if (serial) {
      c.devices.serial = serial.map((e) =>
        typeof e === 'string' ? { path: e, baudRate: 115200, secure: c.devices.secure } : { path: e.path, name: e.name, baudRate: e.baudRate ?? 115200, secure: e.secure ?? c.devices.secure },
      );
    }
  }
  if (d.sam) Object.assign(c.sam, d.sam);
  if (d.readers) Object.assign(c.readers, d.readers);
  // Shape only here; resolveApiConfig (the API platform's) checks values once everything is merged.
  if (d.api) c.api = { ...c.api, ...d.api };
  if (d.qr) Object.assign(c.qr, d.qr);
  if (d.log) Object.assign(c.log, d.log);
  if (d.desk) Object.assign(c.desk, d.desk);
  if (d.stateDir !== undefined) c.stateDir = d.stateDir;
  return c;
}

const { listen: _apiListen, ...API_PROPERTIES } = API_CONFIG_SCHEMA.properties;
const nonEmpty = { type: 'string', minLength: 1 } as const;
const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;

/**
 * JSON Schema of the configuration file: the definition (`yikad --print-config-schema`).
 * Alternatives are written as if/then/else (not oneOf) so a validator reports the branch that applies.
 */
export const CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://yika.dev/schemas/yikad-config.json',
  title: 'yikad configuration',
  description:
    'The configuration file of yikad (JSON or YAML). Besides this schema, yikad checks what JSON Schema cannot say: ' +
    'devices.serial lists each path once; and the api section as a whole (a non-loopback listen needs api.token or api.tokens, ' +
    'allowedOrigins are origins without wildcards, trustProxy entries are IP addresses or CIDR ranges, no token is configured twice). ' +
    '`yikad --check-config FILE` runs both.',
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: {
      description: 'Where the HTTP API listens: HOST:PORT, [v6]:PORT, :PORT or PORT, or {host, port}. Default 127.0.0.1:7611. A non-loopback host needs api.token.',
      if: { type: 'string' },
      then: { type: 'string', pattern: LISTEN_PATTERN },
      else: { type: 'object', additionalProperties: false, properties: { host: nonEmpty, port } },
    },
    sim: {
      description: 'The built-in simulated reader: true, or {enabled, seed, speed, profile}.',
      if: { type: 'boolean' },
      else: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean' },
          seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1, description: 'Seed of the simulated cardholder.' },
          speed: { type: 'number', minimum: 0, maximum: 100, description: 'Time factor: 0 no delays, 1 real hardware timing.' },
          profile: { ...nonEmpty, description: 'Reader profile of the simulator.' },
        },
      },
    },
    devices: {
      type: 'object',
      additionalProperties: false,
      properties: {
        serial: {
          type: 'array',
          uniqueItems: true, // the post-check also catches one path written as a string and as {path}
          description: 'Serial readers opened by path (each path once): a path, or {path, name, baudRate, secure}.',
          items: {
            if: { type: 'string' },
            then: nonEmpty,
            else: {
              type: 'object',
              required: ['path'],
              additionalProperties: false,
              properties: { path: nonEmpty, name: nonEmpty, baudRate: { type: 'integer', minimum: 1200, maximum: 4_000_000, default: 115200 }, secure: { enum: [...SECURE] } },
            },
          },
        },
        serialDiscovery: { type: 'boolean' },
        secure: { enum: [...SECURE] },
        pcsc: { type: 'boolean' },
        vendorCas: {
          type: 'array',
          items: { type: 'object', required: ['id', 'publicKey'], additionalProperties: false, properties: { id: nonEmpty, publicKey: { type: 'string', pattern: SM2_KEY_PATTERN } } },
        },
        trustTestCa: { type: 'boolean', description: "TEST ONLY: trust the simulator's TEST-ONLY CA for serial ports that are pseudo-terminals (yika-sim --pty). Never applied to a real device node." },
        hostKeyFile: nonEmpty,
        timeouts: {
          type: 'object',
          additionalProperties: false,
          description: 'Per-operation protocol timeouts in ms (default: protocol/timing.ts).',
          properties: Object.fromEntries(TIMEOUT_OPS.map((k) => [k, { type: 'integer', minimum: 50, maximum: 600_000 }])),
        },
      },
    },
    sam: {
      type: 'object',
      additionalProperties: false,
      properties: { pin: { type: 'string', pattern: PIN_PATTERN, writeOnly: true, description: 'The SAM PIN, 4–12 digits, quoted in YAML. Never logged.' } },
    },
    readers: {
      type: 'object',
      additionalProperties: false,
      properties: { lockTimeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 }, trace: { type: 'boolean' }, traceMaskData: { type: 'boolean' } },
    },
    api: { ...API_CONFIG_SCHEMA, description: 'The HTTP API (daemon/api/api-config.ts); where it listens is the top-level listen.', properties: API_PROPERTIES },
    qr: {
      type: 'object',
      additionalProperties: false,
      properties: {
        anchors: { type: 'array', items: { type: 'string', pattern: SM2_KEY_PATTERN } },
        trustBundle: nonEmpty,
        trustUrl: nonEmpty,
        redisUrl: nonEmpty,
        demo: { type: 'boolean' },
        staticCheck: { enum: [...STATIC_CHECKS], description: 'The second check a valid static code needs at this desk (printed or screenshotted codes): id-card (default), password, sms, none' },
        expiredPolicy: { enum: ['fail', 'degrade'], default: 'fail', description: 'An expired trust bundle (past nextUpdate + graceSeconds): refuse codes (fail) or verify with a TRUSTLIST_EXPIRED warning (degrade).' },
        graceSeconds: { type: 'integer', minimum: 0, maximum: 30 * 86_400, default: 72 * 3600, description: "Grace after the bundle's nextUpdate before it counts as expired." },
        staleAfterSeconds: { type: 'integer', minimum: 60, maximum: 30 * 86_400, default: 86_400, description: 'Warn (TRUSTLIST_STALE) when the bundle is older than this.' },
        trustRefreshSeconds: { type: 'integer', minimum: 60, maximum: 86_400, description: 'How often trustUrl is polled.' },
        sharedDownPolicy: { enum: ['local', 'fail'], default: 'local', description: 'Redis unreachable: check replay at this desk only (local) or refuse dynamic codes (fail).' },
      },
    },
    log: { type: 'object', additionalProperties: false, properties: { level: { enum: [...LEVELS] } } },
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
    stateDir: { type: 'string', minLength: 1, description: 'State directory (the write journal of interrupted card writes). Default $STATE_DIRECTORY, else $XDG_STATE_HOME/yika, else ~/.local/state/yika.' },
  },
} as const;
