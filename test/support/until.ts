// Polls a condition until it yields a truthy value (returned) or the time is up (a clear error naming
// what was awaited). The condition may be synchronous or asynchronous (an HTTP poll, a CLI run …):
// each try is awaited before the next. For tests that wait on real processes, ports and events.
export async function until<T>(
  what: string,
  fn: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
