// The adaptive retransmission timeout (PROTOCOL.md 9.1): RFC 6298's estimator over the round trips of
// requests answered at their first send, kept within rtoMinMs … rtoMaxMs.
import { RTO_INITIAL_MS } from '../timing.ts';

export class RttEstimator {
  /** Smoothed round trip and its variation, ms (undefined until the first sample). */
  private srtt: number | undefined;
  private rttvar = 0;
  private rto: number;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.rto = Math.min(maxMs, Math.max(minMs, RTO_INITIAL_MS));
  }

  /** The current retransmission timeout, ms. */
  get rtoMs(): number {
    return this.rto;
  }

  sample(ms: number): void {
    if (this.srtt === undefined) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
    this.rto = Math.min(this.maxMs, Math.max(this.minMs, this.srtt + Math.max(10, 4 * this.rttvar)));
  }
}
