// yikad: the Yika daemon. Parses flags (over environment over config file), checks the crypto with
// its known-answer self-test, starts the device backends and the HTTP API, logs "ready" with the URL,
// and shuts down cleanly on SIGINT/SIGTERM. What stops it from starting is one plain line on stderr
// with what to do, and a documented exit code (startup-problems.ts); logs are JSON when stdout is not
// a terminal (journald, files, pipes) and readable lines on a terminal (YIKA_LOG_FORMAT overrides).
import { runSelfTest } from '../crypto/index.ts';
import { isYikaError } from '../common/yika-error.ts';
import { createApp } from './app.ts';
import { CONFIG_SCHEMA } from './config/config-schema.ts';
import { checkConfigFile, DAEMON_USAGE, defaultStateDir, loadConfig, parseDaemonFlags } from './config/load-config.ts';
import { createLogger } from './logging/logger.ts';
import { chooseLogFormat, prettyDestination, type LogFormat } from './logging/pretty-lines.ts';
import { checkSerialPort, EXIT, EXIT_CODES_HELP, explainStartupError } from './startup-problems.ts';
import { defaultTokenFile, generateToken, removeTokenFile, writeTokenFile } from './config/token-file.ts';

/** The one plain line for a person; on a terminal in red. */
function tell(line: string): void {
  const tty = process.stderr.isTTY === true;
  process.stderr.write(`${tty ? '\x1b[31m' : ''}yikad: ${line}${tty ? '\x1b[0m' : ''}\n`);
}

type Config = ReturnType<typeof loadConfig>;
type Logger = ReturnType<typeof createLogger>;

/** Flags, config and log format; or the exit code when this run only prints (help, schema, check) or the configuration is wrong. */
function prepare(argv: string[]): { config: Config; format: LogFormat } | number {
  try {
    const flags = parseDaemonFlags(argv);
    if (flags.help) {
      process.stdout.write(DAEMON_USAGE + '\n' + EXIT_CODES_HELP);
      return EXIT.OK;
    }
    if (flags.printConfigSchema) {
      process.stdout.write(JSON.stringify(CONFIG_SCHEMA, null, 2) + '\n');
      return EXIT.OK;
    }
    if (flags.checkConfig !== undefined) {
      checkConfigFile(flags.checkConfig);
      process.stdout.write(`${flags.checkConfig}: valid\n`);
      return EXIT.OK;
    }
    const config = loadConfig(flags);
    config.stateDir ??= defaultStateDir();
    return { config, format: chooseLogFormat(process.env, process.stdout.isTTY === true) };
  } catch (e) {
    tell(`${isYikaError(e) || e instanceof RangeError ? e.message : String(e)} (yikad --help lists the options)`);
    return EXIT.CONFIG;
  }
}

/**
 * No token configured: a new one for this run, in a file only this user can read (the yika CLI
 * reads it). Writes, raw APDUs and unmasked traces need a token even from loopback.
 */
function generateRunToken(config: Config, logger: Logger): { token: string; file: string } | undefined {
  if (config.api.token || config.api.tokens?.length) return undefined;
  const file = config.api.tokenFile ?? defaultTokenFile();
  const token = generateToken();
  config.api = { ...config.api, token };
  try {
    writeTokenFile(file, token);
    logger.info({ tokenFile: file }, `API token for this run written to ${file} (writes, raw APDUs and unmasked traces need it; the yika CLI reads it)`);
    return { token, file };
  } catch (e) {
    logger.warn({ tokenFile: file, code: (e as NodeJS.ErrnoException).code }, `cannot write the API token file ${file}: writes and raw APDUs will be refused; set api.token or api.tokenFile`);
    return undefined;
  }
}

/** Runs until SIGINT/SIGTERM, then closes the app (forced exit after 5 s). */
function runUntilSignal(running: { close(): Promise<void> }, logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      const force = setTimeout(() => {
        logger.warn({}, 'shutdown took longer than 5 s; exiting');
        process.exit(1);
      }, 5000);
      force.unref();
      running
        .close()
        .catch((e: unknown) => logger.error({ err: e }, 'error while stopping'))
        .finally(() => {
          clearTimeout(force);
          resolve();
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

async function main(argv: string[]): Promise<number> {
  const prepared = prepare(argv);
  if (typeof prepared === 'number') return prepared;
  const { config, format } = prepared;

  const logger = createLogger({ level: config.log.level, ...(format === 'pretty' ? { destination: prettyDestination() } : {}) });
  /** A start-up failure: the plain line on stderr; with JSON logs also a fatal entry (no stack) for the journal. */
  const refuse = (line: string, exitCode: number, code?: string): number => {
    if (format === 'json') logger.fatal({ code, exitCode }, line);
    tell(line);
    return exitCode;
  };

  const selfTest = runSelfTest();
  if (!selfTest.ok) {
    if (format === 'json') logger.fatal({ selfTest }, 'crypto self-test failed');
    return refuse('the crypto self-test failed, refusing to start: this Node.js/OpenSSL build computes SM2/SM3/SM4 wrongly; use the Node.js Yika ships with (or an official Node.js ≥ 20.19)', EXIT.SELF_TEST, 'CRYPTO_SELF_TEST_FAILED');
  }
  logger.debug({ selfTest }, 'crypto self-test passed');

  for (const port of config.devices.serial) {
    const check = checkSerialPort(port.path);
    if (check.error) return refuse(check.error.message, check.error.exitCode, check.error.code);
    if (check.warning) {
      logger.warn({ path: port.path }, check.warning);
      if (format === 'json') tell(check.warning);
    }
  }

  const generated = generateRunToken(config, logger);
  let app;
  try {
    app = await createApp({ config, logger });
    await app.startDevices();
    const url = await app.listen();
    const readers = app.registry.list().map((r) => r.id);
    logger.info({ url, readers, sim: config.sim.enabled }, `ready: ${url}`);
  } catch (e) {
    const problem = explainStartupError(e, config.listen);
    // The details (with the stack) only where they help: an unexpected error.
    if (problem.exitCode === EXIT.UNEXPECTED) logger.error({ err: e }, 'start-up failed');
    await app?.close().catch(() => {});
    if (generated) removeTokenFile(generated.file, generated.token);
    return refuse(problem.line, problem.exitCode, problem.code);
  }

  await runUntilSignal(app, logger);
  if (generated) removeTokenFile(generated.file, generated.token);
  logger.info({}, 'stopped');
  logger.flush?.();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // pcsclite and serial bindings can keep handles; the daemon has nothing left to do.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (e: unknown) => {
    process.stderr.write(`yikad: unexpected error (exit code 1): ${(e as Error).stack ?? String(e)}\n`);
    process.exit(EXIT.UNEXPECTED);
  },
);
