// The built-in simulated reader (`yikad --sim`): the firmware simulator runs in this process and is
// reached over an in-memory byte link through the same protocol session as a serial reader, so the
// demo exercises the real code path. This is the one place in daemon/ that loads firmware-sim/.
import type { ByteLink } from '../../protocol/link.ts';
import type { HostSecureConfig } from '../../protocol/secure/host-handshake.ts';
import type { SecurePolicy } from '../config/config-schema.ts';
import { Backoff } from './backoff.ts';
import { connectProtocolDevice } from './protocol-connect.ts';
import type { BackendStatus, DeviceBackend, DeviceSink } from './reader-device.ts';

/** What the daemon uses of firmware-sim's createSimulator(). */
export interface InProcessSimulator {
  connectInProcess(): ByteLink;
  /** After the simulator's unplug/replug fault, the new host link arrives here. */
  onReplug?(listener: (link: ByteLink) => void): () => void;
  close?(): Promise<void> | void;
}

export interface SimBackendOptions {
  seed: number;
  speed: number;
  profile?: string;
  secure: SecurePolicy;
  timeouts?: Partial<Record<string, number>>;
  /** The simulated device's secure-channel capability (with the TEST-ONLY identity). */
  deviceSecure?: 'supported' | 'required';
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
    this.unsubscribeReplug = this.sim.onReplug?.((link) => {
      this.replugLink = link;
      void this.connect().catch(() => {});
    });
    await this.connect();
  }

  private unsubscribeReplug: (() => void) | undefined;
  private replugLink: ByteLink | undefined;

  /** Reconnects the in-process link (after the simulator's unplug fault, for instance). */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private readonly backoff = new Backoff(100, 2000);
  private retryTimer: NodeJS.Timeout | undefined;
  private connected = false;

  private scheduleRetry(): void {
    if (this.stopped || this.connected) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect().catch(() => {}), this.backoff.next());
    this.retryTimer.unref?.();
  }

  private async doConnect(): Promise<void> {
    const sim = this.sim;
    if (!sim || this.stopped || this.connected) return;
    // A replugged simulator hands us its new link; otherwise ask for one (refused while unplugged).
    let link: ByteLink;
    try {
      link = this.replugLink && !this.replugLink.closed ? this.replugLink : sim.connectInProcess();
    } catch (e) {
      this.state = { backend: 'sim', available: false, detail: `the simulated reader is not reachable (${(e as Error).message})` };
      this.scheduleRetry();
      return;
    }
    this.replugLink = undefined;
    try {
      const { device, session } = await connectProtocolDevice(link, { kind: 'sim', key: 'sim', secure: this.options.secure, trust: this.options.trust, timeouts: this.options.timeouts });
      if (this.stopped) {
        await session.close();
        return;
      }
      this.connected = true;
      this.backoff.reset();
      this.closeSession = () => session.close();
      this.state = { backend: 'sim', available: true };
      session.once('close', (err) => {
        this.connected = false;
        this.closeSession = undefined;
        if (this.stopped) return;
        // Unplugged, or the session failed (secure-channel record rejected, peer dead …): report it
        // and reconnect; while the simulator is unplugged its link is refused until it is replugged.
        this.sink?.detached('sim', 'sim', `${err.code}: ${err.message}`);
        this.state = { backend: 'sim', available: false, detail: `the simulated reader went away (${err.code}); reconnecting` };
        this.scheduleRetry();
      });
      this.sink?.attached(device);
    } catch (e) {
      link.close('hello failed');
      this.state = { backend: 'sim', available: false, detail: `simulator hello failed: ${(e as Error).message}` };
      this.options.log?.warn({ err: (e as Error).message }, 'simulated reader did not answer hello; retrying');
      this.scheduleRetry();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.unsubscribeReplug?.();
    await this.closeSession?.().catch(() => {});
    await this.sim?.close?.();
  }

  private async createDefault(): Promise<InProcessSimulator> {
    // Loaded on demand: a daemon without --sim never loads the simulator.
    const { createSimulator } = await import('../../firmware-sim/index.ts');
    const created = createSimulator({ seed: this.options.seed, speed: this.options.speed, profile: this.options.profile, secure: this.options.deviceSecure });
    this.options.log?.info({ seed: this.options.seed, speed: this.options.speed }, 'simulated reader started (synthetic cardholder data)');
    return created;
  }
}
