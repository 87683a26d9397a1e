// Test fixture: a whole desk over PC/SC — a simulator's card (slot 0x01) on vpcd's first reader and its
// SAM (slot 0x11) on the second, a real pcscd in between (the machine-wide lock of ./pcscd.ts), and the
// daemon's PC/SC backend listening on a free port. close() undoes it in reverse order.
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import type { Simulator, VpcdClient } from '../../firmware-sim/index.ts';
import { startPcscd, type PcscdHandle } from './pcscd.ts';
import { testTokens } from './api-token.ts';

export interface PcscDesk {
  pcscd: PcscdHandle;
  clients: VpcdClient[];
  app: YikaApp;
  url: string;
  close(): Promise<void>;
}

/** `tokens`: configure the test tokens (writes, raw APDUs, unmasked trace need them). */
export async function startPcscDesk(sim: Simulator, options: { tokens?: boolean } = {}): Promise<PcscDesk> {
  // In a quickack namespace when possible (vpcd otherwise stalls ≈ 44 ms per APDU); the in-process card
  // reaches vpcd through the relay that vpcdAddress() starts.
  const pcscd = await startPcscd({ quickack: true, cardsInProcess: true });
  const clients = [sim.serveVpcd({ ...(await pcscd.vpcdAddress(35963)), slot: 0x01 }), sim.serveVpcd({ ...(await pcscd.vpcdAddress(35964)), slot: 0x11 })];
  const config = loadConfig(parseDaemonFlags(['--listen', '127.0.0.1:0', '--pcsc', '--no-serial-discovery']), {});
  if (options.tokens) config.api.tokens = testTokens();
  const app = await createApp({ config, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  const url = await app.listen();
  return {
    pcscd,
    clients,
    app,
    url,
    async close() {
      await app.close();
      for (const c of clients) await c.close();
      await pcscd.release();
    },
  };
}
