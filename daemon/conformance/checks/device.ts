// The device itself (PROTOCOL.md 6 deviceInfo, deviceReset): diagnostics, and a restart after which
// the device needs and accepts a new hello.
import { needPlaintextOps, type ConformanceCheck } from './check-kit.ts';

export const DEVICE_CHECKS: ConformanceCheck[] = [
  {
    id: 'ops.device-info',
    title: 'deviceInfo returns uptime and counters',
    level: 'must',
    async run(ctx) {
      needPlaintextOps(ctx);
      const s = await ctx.session();
      const info = await s.deviceInfo();
      return `uptime ${Math.round(info.uptimeMs / 1000)} s, ${Object.keys(info.counters).length} counters`;
    },
  },
  {
    id: 'ops.device-reset',
    title: 'deviceReset answers, then the device needs and accepts a new hello',
    level: 'must',
    async run(ctx) {
      needPlaintextOps(ctx);
      const s = await ctx.session();
      const t = performance.now();
      await s.deviceReset();
      await s.ping();
      return `back in ${(performance.now() - t).toFixed(0)} ms`;
    },
  },
];
