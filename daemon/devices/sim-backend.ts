// The built-in simulated reader (`yikad --sim`): the firmware simulator runs in this process and is
// reached over an in-memory byte link through the same protocol session as a serial reader, so the
// demo exercises the real code path. This is the one place in daemon/ that loads firmware-sim/.
import type { ByteLink } from '../../protocol/link.ts';
import type { HostSecureConfig } from '../../protocol/secure/host-handshake.ts';
import type { SecurePolicy } from '../config/config-schema.ts';
import { connectProtocolDevice } from './protocol-connect.ts';
import type { BackendStatus, DeviceBackend, DeviceSink } from './reader-device.ts';

/** What the daemon uses of firmware-sim's createSimulator(). */
export interface InProcessSimulator {
  connectInProcess(): ByteLink;
  close?(): Promise<void> | void;
}

export interface SimBackendOptions {
  seed: number;
  speed: number;
  profile?: string;
  secure: SecurePolicy;
  trust?: HostSecureConfig;
  /** Tests and benches pass a simulator they control; default: createSimulator from firmware-sim. */
  simulator?: InProcessSimulator;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export class SimBackend implements DeviceBackend {
  readonly kind = 'sim' as const;
  private sink: DeviceSink | undefined;
  private sim: InProcessSimulator | undefined;
  private closeSession: (() => Promise<void>) | undefined;
  private state: BackendStatus = { backend: 'sim', available: false, detail: 'not started' };
  private stopped = false;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: SimBackendOptions) {}

  /** The running simulator (to insert cards, scan codes, inject faults from tests and the demo). */
  get simulator(): InProcessSimulator | undefined {
    return this.sim;
  }

  status(): BackendStatus {
    return { ...this.state };
  }

  async start(sink: DeviceSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    this.sim = this.options.simulator ?? (await this.createDefault());
    await this.connect();
  }

  /** Reconnects the in-process link (after the simulator's unplug fault, for instance). */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const sim = this.sim;
    if (!sim || this.stopped) return;
    const link = sim.connectInProcess();
    try {
      const { device, session } = await connectProtocolDevice(link, { kind: 'sim', key: 'sim', secure: this.options.secure, trust: this.options.trust });
      this.closeSession = () => session.close();
      this.state = { backend: 'sim', available: true };
      session.once('close', (err) => {
        this.closeSession = undefined;
        if (this.stopped) return;
        this.sink?.detached('sim', 'sim', `${err.code}: ${err.message}`);
        this.state = { backend: 'sim', available: false, detail: 'the simulated link closed; reconnecting' };
        const t = setTimeout(() => void this.connect().catch(() => {}), 200);
        t.unref?.();
      });
      this.sink?.attached(device);
    } catch (e) {
      link.close('hello failed');
      this.state = { backend: 'sim', available: false, detail: `simulator hello failed: ${(e as Error).message}` };
      this.options.log?.warn({ err: (e as Error).message }, 'simulated reader did not answer hello; retrying');
      if (!this.stopped) {
        const t = setTimeout(() => void this.connect().catch(() => {}), 500);
        t.unref?.();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.closeSession?.().catch(() => {});
    await this.sim?.close?.();
  }

  private async createDefault(): Promise<InProcessSimulator> {
    // A computed specifier until firmware-sim/index.ts exposes createSimulator to the type checker.
    const entry = '../../firmware-sim/index.ts';
    const sim = (await import(entry)) as {
      createSimulator(options: { seed?: number; speed?: number; profile?: string }): InProcessSimulator | Promise<InProcessSimulator>;
    };
    const created = await sim.createSimulator({ seed: this.options.seed, speed: this.options.speed, profile: this.options.profile });
    this.options.log?.info({ seed: this.options.seed, speed: this.options.speed }, 'simulated reader started (synthetic cardholder data)');
    return created;
  }
}
