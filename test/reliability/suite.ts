// The blocks of the reliability suite, in run order, shared by the runner (test/reliability/run.ts)
// and the short form inside `npm test` (test/integration/reliability-short.test.ts).
import { fuzzFrames } from './fuzz/frames.ts';
import { fuzzApduResponses } from './fuzz/apdu-responses.ts';
import { fuzzTlv } from './fuzz/tlv.ts';
import { fuzzEhc1 } from './fuzz/ehc1.ts';
import { fuzzHttpBodies } from './fuzz/http-bodies.ts';
import { fuzzConfigFiles } from './fuzz/config-files.ts';
import { removalDuringRead, removalDuringWrite } from './faults/card-removal.ts';
import { lineNoise, muteAndSlowCards, unplugDuringRead } from './faults/link-and-card.ts';
import { redisOutage } from './faults/redis-outage.ts';
import { pcscdRestart } from './faults/pcscd-restart.ts';
import { concurrentLoad } from './load/load.ts';
import { apiRefusals, logPrivacyScan, secureChannelTampering } from './security/security.ts';
import { attackRuns } from './security/attacks.ts';
import type { BlockOptions, BlockResult } from './kit/outcome.ts';

export interface Block {
  id: string;
  run(o: BlockOptions): Promise<BlockResult>;
}

/** The privacy scan reads what every earlier block logged: it stays last. */
export const BLOCKS: Block[] = [
  { id: 'fuzz-frames', run: fuzzFrames },
  { id: 'fuzz-apdu', run: fuzzApduResponses },
  { id: 'fuzz-tlv', run: fuzzTlv },
  { id: 'fuzz-ehc1', run: fuzzEhc1 },
  { id: 'fuzz-http', run: fuzzHttpBodies },
  { id: 'fuzz-config', run: fuzzConfigFiles },
  { id: 'removal-read', run: removalDuringRead },
  { id: 'removal-write', run: removalDuringWrite },
  { id: 'noise', run: lineNoise },
  { id: 'mute-slow', run: muteAndSlowCards },
  { id: 'unplug', run: unplugDuringRead },
  { id: 'redis', run: redisOutage },
  { id: 'load', run: concurrentLoad },
  { id: 'secure-channel', run: secureChannelTampering },
  { id: 'api-refusals', run: apiRefusals },
  // Appended (not next to the other faults) so that the seeds of the blocks before it stay as they were.
  { id: 'pcscd-restart', run: pcscdRestart },
  { id: 'attacks', run: attackRuns },
  { id: 'log-scan', run: logPrivacyScan },
];

/** Wrong results not explained by a known issue, plus crashes: what must be 0. */
export function unexplained(r: BlockResult): number {
  const known = Object.values(r.known).reduce((a, b) => a + b, 0);
  return r.wrong - known + r.crashes;
}
