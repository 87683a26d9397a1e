// The whole daemon (createApp with every route module) without devices: no PC/SC, no serial
// discovery, the TEST-ONLY demo QR trust anchor as with --sim. For tests of the API's documents.
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { defaultConfig } from '../../daemon/config/config-schema.ts';
import { createLogger } from '../../daemon/logging/logger.ts';

export async function appWithoutDevices(): Promise<YikaApp> {
  const config = defaultConfig();
  config.listen = { host: '127.0.0.1', port: 0 };
  config.devices.pcsc = false;
  config.devices.serialDiscovery = false;
  config.qr.demo = true;
  const app = await createApp({ config, logger: createLogger({ level: 'silent' }) });
  await app.server.ready();
  return app;
}
