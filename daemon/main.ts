// yikad: the Yika daemon. Parses flags (over environment over config file), checks the crypto with
// its known-answer self-test, starts the device backends and the HTTP API, logs "ready" with the URL,
// and shuts down cleanly on SIGINT/SIGTERM.
import { runSelfTest } from '../crypto/index.ts';
import { isYikaError } from '../common/yika-error.ts';
import { createApp } from './app.ts';
import { CONFIG_SCHEMA } from './config/config-schema.ts';
import { DAEMON_USAGE, loadConfig, parseDaemonFlags } from './config/load-config.ts';
import { createLogger } from './logging/logger.ts';

async function main(argv: string[]): Promise<number> {
  let flags;
  let config;
  try {
    flags = parseDaemonFlags(argv);
    if (flags.help) {
      process.stdout.write(DAEMON_USAGE);
      return 0;
    }
    if (flags.printConfigSchema) {
      process.stdout.write(JSON.stringify(CONFIG_SCHEMA, null, 2) + '\n');
      return 0;
    }
    config = loadConfig(flags);
  } catch (e) {
    process.stderr.write(`yikad: ${isYikaError(e) ? e.message : String(e)}\n`);
    return 2;
  }

  const logger = createLogger({ level: config.log.level });
  const selfTest = runSelfTest();
  if (!selfTest.ok) {
    logger.fatal({ selfTest }, 'crypto self-test failed; refusing to start');
    return 3;
  }
  logger.debug({ selfTest }, 'crypto self-test passed');

  let app;
  try {
    app = await createApp({ config, logger });
    await app.startDevices();
    const url = await app.listen();
    const readers = app.registry.list().map((r) => r.id);
    logger.info({ url, readers, sim: config.sim.enabled }, `ready: ${url}`);
  } catch (e) {
    logger.fatal({ err: e, code: isYikaError(e) ? e.code : undefined }, `cannot start: ${isYikaError(e) ? e.message : (e as Error).message}`);
    await app?.close().catch(() => {});
    return 1;
  }

  const running = app;
  await new Promise<void>((resolve) => {
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
    process.stderr.write(`yikad: fatal: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
