// Builds the effective configuration: defaults < config file < environment < command-line flags.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { numberOption, optionHelp, parseCliOptions, type CliOptionTable } from '../../common/cli-options.ts';
import { isYikaError } from '../../common/yika-error.ts';
import { resolveApiConfig, type ApiConfig } from '../api/api-config.ts';
import { ConfigError } from './config-error.ts';
import { applyConfigDocument, defaultConfig, parseListen, type SecurePolicy, type YikaConfig } from './config-schema.ts';

export interface DaemonFlags {
  listen?: string;
  sim?: boolean;
  config?: string;
  seed?: number;
  speed?: number;
  serial: string[];
  secure?: SecurePolicy;
  trustTestCa?: boolean;
  stateDir?: string;
  pcsc?: boolean;
  trace?: boolean;
  logLevel?: string;
  help?: boolean;
  printConfigSchema?: boolean;
  /** `--check-config FILE`: validate FILE (schema + post-checks) and exit 0 or 2. */
  checkConfig?: string;
}

const DAEMON_OPTIONS = {
  listen: { type: 'string', arg: 'HOST:PORT', help: 'where the HTTP API listens (env YIKA_LISTEN; default 127.0.0.1:7611)' },
  sim: { type: 'boolean', help: 'start the built-in simulated reader (env YIKA_SIM=1)' },
  seed: { type: 'string', arg: 'N', help: 'seed of the simulated cardholder (with --sim)' },
  speed: { type: 'string', arg: 'F', help: 'simulator time factor: 0 no delays, 1 real hardware timing (with --sim)' },
  config: { type: 'string', arg: 'FILE', help: 'configuration file, JSON or YAML (env YIKA_CONFIG)' },
  serial: { type: 'string', multiple: true, arg: 'PATH', help: 'open a serial reader at PATH (repeatable)' },
  secure: { type: 'string', arg: 'POLICY', choices: ['required', 'preferred', 'off'], help: 'secure channel for serial readers: required | preferred | off' },
  'trust-test-ca': {
    type: 'boolean',
    help: "trust the simulator's TEST-ONLY CA for serial ports that are pseudo-terminals\n(a yika-sim --pty started for testing); never for a real device node",
  },
  'state-dir': {
    type: 'string',
    arg: 'DIR',
    help: 'state directory: the journal of card writes (env YIKA_STATE_DIR; default\n$STATE_DIRECTORY, else $XDG_STATE_HOME/yika, else ~/.local/state/yika)',
  },
  pcsc: { type: 'boolean', negatable: true, helpNo: 'do not use PC/SC readers (env YIKA_PCSC=0)' },
  'serial-discovery': { type: 'boolean', negatable: true, helpNo: 'only open the configured serial ports' },
  trace: { type: 'boolean', help: 'start with the APDU trace on' },
  'log-level': {
    type: 'string',
    arg: 'LEVEL',
    help: 'fatal | error | warn | info | debug | trace | silent (env YIKA_LOG_LEVEL)\nlogs are JSON lines when stdout is not a terminal, readable lines on one;\nenv YIKA_LOG_FORMAT=json|pretty chooses',
  },
  'print-config-schema': { type: 'boolean', help: 'print the JSON Schema of the configuration file and exit' },
  'check-config': {
    type: 'string',
    arg: 'FILE',
    help: 'check FILE against that schema (and the checks it names); exit 0 if valid,\n2 with one line naming the file, key, expected and found if not',
  },
  help: { type: 'boolean', short: 'h', help: 'this text' },
} as const satisfies CliOptionTable;

export const DAEMON_USAGE = `Usage: yikad [options]\n\n${optionHelp(DAEMON_OPTIONS)}\n`;

/** yikad's command line (common/cli-options.ts); a bad flag is a CliUsageError naming it. */
export function parseDaemonFlags(argv: string[]): DaemonFlags & { serialDiscovery?: boolean } {
  const { values: v } = parseCliOptions(DAEMON_OPTIONS, argv);
  const flags: DaemonFlags & { serialDiscovery?: boolean } = { serial: v.serial };
  const set = <K extends keyof typeof flags>(key: K, value: (typeof flags)[K] | undefined): void => {
    if (value !== undefined) flags[key] = value;
  };
  set('listen', v.listen);
  set('sim', v.sim);
  set('config', v.config);
  set('seed', numberOption(v.seed, '--seed'));
  set('speed', numberOption(v.speed, '--speed'));
  set('secure', v.secure as SecurePolicy | undefined);
  set('trustTestCa', v['trust-test-ca']);
  set('stateDir', v['state-dir']);
  set('pcsc', v.pcsc);
  set('serialDiscovery', v['serial-discovery']);
  set('trace', v.trace);
  set('logLevel', v['log-level']);
  set('printConfigSchema', v['print-config-schema']);
  set('checkConfig', v['check-config']);
  set('help', v.help);
  return flags;
}

/** Reads and parses a JSON or YAML file into a plain value (YAML is a superset of JSON). */
function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(file, '', code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? 'error'})`, 'CONFIG_FILE_UNREADABLE');
  }
  // yaml is loaded only when there is a file to read (start-up footprint).
  const { parse: parseYaml, YAMLParseError } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  try {
    return parseYaml(text, { prettyErrors: true, logLevel: 'error' }); // no YAML warnings on stderr: they quote file lines (PIN, token)
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new ConfigError(file, where, `not valid JSON or YAML${e instanceof YAMLParseError ? ` (${e.code})` : ''}`, 'CONFIG_FILE_UNREADABLE');
  }
}

export function loadConfig(flags: ReturnType<typeof parseDaemonFlags>, env: NodeJS.ProcessEnv = process.env): YikaConfig {
  let c = defaultConfig();
  const file = flags.config ?? env.YIKA_CONFIG;
  const doc = file ? readConfigFile(file) : undefined;
  if (file) c = applyConfigDocument(c, doc, file);
  const fileDevices = (doc as { devices?: Record<string, unknown> } | undefined)?.devices ?? {};

  // Environment.
  if (env.YIKA_LISTEN) c.listen = parseListen(env.YIKA_LISTEN, 'environment', 'YIKA_LISTEN');
  if (env.YIKA_SIM !== undefined && env.YIKA_SIM !== '') c.sim.enabled = envBool(env.YIKA_SIM, 'YIKA_SIM');
  if (env.YIKA_PCSC !== undefined && env.YIKA_PCSC !== '') c.devices.pcsc = envBool(env.YIKA_PCSC, 'YIKA_PCSC');
  if (env.YIKA_TOKEN) c = applyConfigDocument(c, { api: { token: env.YIKA_TOKEN } }, 'environment YIKA_TOKEN');
  if (env.YIKA_SAM_PIN) c = applyConfigDocument(c, { sam: { pin: env.YIKA_SAM_PIN } }, 'environment YIKA_SAM_PIN');
  if (env.YIKA_LOG_LEVEL) c = applyConfigDocument(c, { log: { level: env.YIKA_LOG_LEVEL } }, 'environment YIKA_LOG_LEVEL');

  // Flags.
  if (flags.listen !== undefined) c.listen = parseListen(flags.listen, 'command line', '--listen');
  if (flags.sim) c.sim.enabled = true;
  const simDoc: Record<string, number> = {};
  if (flags.seed !== undefined) simDoc.seed = flags.seed;
  if (flags.speed !== undefined) simDoc.speed = flags.speed;
  if (Object.keys(simDoc).length) c = applyConfigDocument(c, { sim: simDoc }, 'command line');
  if (flags.secure) {
    c.devices.secure = flags.secure;
    for (const s of c.devices.serial) s.secure = flags.secure;
  }
  for (const path of flags.serial) {
    if (!c.devices.serial.some((s) => s.path === path)) c.devices.serial.push({ path, baudRate: 115200, secure: c.devices.secure });
  }
  if (flags.pcsc !== undefined) c.devices.pcsc = flags.pcsc;
  if (flags.trustTestCa) c.devices.trustTestCa = true;
  if (env.YIKA_STATE_DIR) c.stateDir = env.YIKA_STATE_DIR;
  if (flags.stateDir) c.stateDir = flags.stateDir;
  if (flags.serialDiscovery !== undefined) c.devices.serialDiscovery = flags.serialDiscovery;
  if (flags.trace) c.readers.trace = true;
  if (flags.logLevel) c = applyConfigDocument(c, { log: { level: flags.logLevel } }, 'command line --log-level');

  // The demo (--sim) is self-contained: no PC/SC or USB scanning unless the file, environment or flags
  // say otherwise. Its in-process reader always trusts the TEST-ONLY CA (app.ts); --sim never extends
  // that trust to serial readers: only --trust-test-ca does, and only for pseudo-terminals.
  if (c.sim.enabled) {
    if (flags.pcsc === undefined && !env.YIKA_PCSC && fileDevices.pcsc === undefined) c.devices.pcsc = false;
    if (flags.serialDiscovery === undefined && fileDevices.serialDiscovery === undefined) c.devices.serialDiscovery = false;
    const fileQr = (doc as { qr?: Record<string, unknown> } | undefined)?.qr ?? {};
    if (fileQr.demo === undefined && !c.qr.anchors.length) c.qr.demo = true;
  }
  apiConfigOf(c, file ?? 'configuration');
  return c;
}

/** The resolved API settings (listen from the top level); a bad value becomes a ConfigError. */
export function apiConfigOf(c: YikaConfig, source = 'configuration'): ApiConfig {
  try {
    return resolveApiConfig({ ...c.api, listen: c.listen });
  } catch (e) {
    if (isYikaError(e)) {
      const path = typeof e.details?.path === 'string' ? e.details.path : 'api';
      throw new ConfigError(source, path, e.message.replace(/^[\w.[\]]+: /, ''));
    }
    throw e;
  }
}

function envBool(v: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError('environment', name, `expected 1 or 0, got "${v}"`);
}

/** yikad's state directory when none is configured: systemd's StateDirectory, XDG, or ~/.local/state. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(':')[0];
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'yika');
  return join(home, '.local', 'state', 'yika');
}

/**
 * `yikad --check-config FILE`: the file alone (no environment, no flags) through the schema, its
 * post-checks and the API section's checks. Throws the ConfigError a start with this file would.
 */
export function checkConfigFile(file: string): YikaConfig {
  return loadConfig({ serial: [], config: file }, {});
}
