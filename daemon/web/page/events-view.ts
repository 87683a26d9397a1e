// The events panel: the last 30 events, newest first, in the page's language, plus the page's own
// note when events were lost while it was disconnected.
import { type QrVerifyResult, scannedResult, type YikaEvent } from './api-shapes.ts';
import { byId, el } from './dom.ts';
import { currentLang, t } from './i18n.ts';
import { detailText } from './messages.ts';
import { verdictOf } from './qr-view.ts';

/** The page's note that events were missed (the stream could not resume). */
type LocalGap = { type: 'local.gap'; at: string; readerId?: undefined };
type ShownEvent = YikaEvent | LocalGap;

const MAX_EVENTS = 30;

export class EventLog {
  private events: ShownEvent[] = [];

  constructor(private readonly slotName: (readerId: string, slot: number) => string) {}

  add(ev: YikaEvent): void {
    this.push(ev);
  }

  addGap(): void {
    this.push({ type: 'local.gap', at: new Date().toISOString() });
  }

  private push(ev: ShownEvent): void {
    this.events.unshift(ev);
    if (this.events.length > MAX_EVENTS) this.events.length = MAX_EVENTS;
    this.render();
  }

  render(): void {
    const list = byId('events');
    list.textContent = '';
    for (const ev of this.events) {
      const li = el('li');
      li.setAttribute('data-type', ev.type);
      li.appendChild(el('time', '', new Date(ev.at).toLocaleTimeString()));
      li.appendChild(document.createTextNode(this.text(ev) + (ev.readerId ? ` · ${ev.readerId}` : '')));
      list.appendChild(li);
    }
  }

  private text(ev: ShownEvent): string {
    switch (ev.type) {
      case 'qr.scanned': {
        const r: Partial<QrVerifyResult> = scannedResult(ev) || {};
        const verdict = t(`qr.${verdictOf(r)}`);
        return t('ev.qr.scanned', { code: currentLang() === 'zh' ? verdict : `${verdict} ${r.code || ''}` });
      }
      case 'reader.health':
        return t('ev.reader.health', { health: t(`health.${ev.health}`), detail: detailText(ev.detail) });
      case 'reader.detached':
        return t('ev.reader.detached', { reason: detailText(ev.reason) });
      case 'card.inserted':
      case 'card.removed':
        return t(`ev.${ev.type}`, { slot: this.slotName(ev.readerId, ev.slot) });
      case 'local.gap':
        return t('ev.resumeGap');
      default:
        return t(`ev.${ev.type}`, ev);
    }
  }
}
