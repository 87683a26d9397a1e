// Keepalive (PROTOCOL.md 6 ping, 9): ping answers quickly, and an idle session lives on its pings.
import { CheckFailed, needPlaintextOps, pingAnswered, readyRaw, sleep, type ConformanceCheck } from './check-kit.ts';

export const KEEPALIVE_CHECKS: ConformanceCheck[] = [
  {
    id: 'keepalive.ping-latency',
    title: 'ping is answered well within the 1000 ms keepalive timeout',
    level: 'must',
    async run(ctx) {
      const raw = await readyRaw(ctx);
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        if (!(await pingAnswered(raw, ctx))) throw new CheckFailed(`ping ${i + 1} not answered`);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const median = times[3];
      if (times[6] > 1000) throw new CheckFailed(`slowest ping ${times[6].toFixed(1)} ms`);
      return `median ${median.toFixed(2)} ms, max ${times[6].toFixed(2)} ms`;
    },
  },
  {
    id: 'keepalive.idle-session',
    title: 'an idle session stays alive on keepalive pings',
    level: 'must',
    async run(ctx) {
      needPlaintextOps(ctx);
      const s = await ctx.session({ keepaliveMs: 100, pingTimeoutMs: 1000 * ctx.scale });
      await sleep(700);
      if (s.closed) throw new CheckFailed(`session closed: ${s.closeReason?.code}`);
      if (s.counters.pings < 2) throw new CheckFailed(`only ${s.counters.pings} keepalive pings went out`);
      return `${s.counters.pings} pings in 0.7 s`;
    },
  },
];
