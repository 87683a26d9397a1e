// The /v1/events WebSocket: connects, resumes after the last event seen when the connection drops
// (?after=seq), drops what it already had, and reconnects with a growing wait (0.5 s … 5 s). It tells
// the page three things: live (the hello arrived; `gap` when events were lost meanwhile: the daemon
// restarted, or its history no longer reaches back), an event, and down (`wasLive` false: this
// attempt never got its hello).
import type { StreamHeartbeat, StreamHello, YikaEvent } from './api-shapes.ts';

interface StreamHandlers {
  live(gap: boolean): void;
  event(ev: YikaEvent): void;
  down(wasLive: boolean): void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;

export class EventStream {
  private lastSeq: number | undefined;
  private retryMs = FIRST_RETRY_MS;

  constructor(private readonly handlers: StreamHandlers) {}

  connect(): void {
    const after = this.lastSeq !== undefined ? `?after=${this.lastSeq}` : '';
    const url = `${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/v1/events${after}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.closed(false);
      return;
    }
    let live = false;
    ws.onmessage = (m: MessageEvent) => {
      let msg: StreamHello | StreamHeartbeat | YikaEvent;
      try {
        msg = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (msg.type === 'stream.hello') {
        live = true;
        this.hello(msg);
      } else if (msg.type !== 'stream.heartbeat') this.received(msg);
    };
    ws.onclose = () => this.closed(live);
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private hello(msg: StreamHello): void {
    this.retryMs = FIRST_RETRY_MS;
    let gap = false;
    if (this.lastSeq === undefined) this.lastSeq = msg.position;
    else if (msg.position < this.lastSeq) {
      // The daemon restarted: its sequence starts again and nothing before can be replayed.
      this.lastSeq = msg.position;
      gap = true;
    } else if (msg.resume && !msg.resume.complete) gap = true;
    this.handlers.live(gap);
  }

  private received(ev: YikaEvent): void {
    if (typeof ev.seq !== 'number') return;
    if (this.lastSeq !== undefined && ev.seq <= this.lastSeq) return;
    this.lastSeq = ev.seq;
    this.handlers.event(ev);
  }

  private closed(wasLive: boolean): void {
    this.handlers.down(wasLive);
    const wait = this.retryMs;
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    setTimeout(() => this.connect(), wait);
  }
}
