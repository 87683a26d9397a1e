// The checks of the conformance suite, in run order: one file per area under checks/, joined here.
// MUST checks are the v1 requirements of PROTOCOL.md; SHOULD checks are recommendations. The ids,
// their order and titles are public (vendors' reports, PROTOCOL.md 12 is generated from this list).
import { BATCH_CHECKS } from './checks/batch.ts';
import type { ConformanceCheck } from './checks/check-kit.ts';
import { DEVICE_CHECKS } from './checks/device.ts';
import { FRAME_CHECKS } from './checks/frames.ts';
import { HELLO_CHECKS } from './checks/hello.ts';
import { KEEPALIVE_CHECKS } from './checks/keepalive.ts';
import { ALL_VALID_CHECK, MESSAGE_CHECKS } from './checks/messages.ts';
import { REQUEST_WINDOW_CHECKS } from './checks/request-window.ts';
import { SECURE_CHANNEL_CHECKS } from './checks/secure-channel.ts';
import { SLOT_AND_CARD_CHECKS } from './checks/slots-and-cards.ts';

export const CHECKS: readonly ConformanceCheck[] = [
  ...HELLO_CHECKS,
  ...MESSAGE_CHECKS,
  ...FRAME_CHECKS,
  ...KEEPALIVE_CHECKS,
  ...SLOT_AND_CARD_CHECKS,
  ...BATCH_CHECKS,
  ...REQUEST_WINDOW_CHECKS,
  ...DEVICE_CHECKS,
  ...SECURE_CHANNEL_CHECKS,
  // Last: it judges every message of the run.
  ALL_VALID_CHECK,
];
