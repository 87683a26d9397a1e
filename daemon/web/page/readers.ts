// The readers panel: GET /v1/readers, each reader with its health and its slots (SAM slots by name,
// SAM1 …; user slots by kind in the page's language), or what to check when there is none. A refresh
// asked for while one is in flight joins it.
import type { Reader, ReaderSlot } from './api-shapes.ts';
import { api, type PageError } from './api.ts';
import { byId, el } from './dom.ts';
import { t } from './i18n.ts';
import { detailText, errorText } from './messages.ts';

/** Slots below 0x10 take the patient's card; 0x11… are SAM slots. */
function isUserSlot(slot: Pick<ReaderSlot, 'kind' | 'slot'>): boolean {
  return slot.kind !== 'sam' && slot.slot < 0x10;
}

function hasCard(slot: ReaderSlot): boolean {
  return slot.card === 'present' || slot.card === 'powered';
}

export class ReaderList {
  readers: Reader[] = [];
  private error: PageError | null = null;
  private pending: Promise<void> | null = null;
  /** No answer yet: the panel says nothing rather than "no reader found" before the first list. */
  private answered = false;

  /** `refreshed(askedAt)`: a new list arrived, asked for at performance.now() = askedAt. */
  constructor(private readonly refreshed: (askedAt: number) => void) {}

  refresh(): Promise<void> {
    if (this.pending) return this.pending;
    const askedAt = performance.now();
    this.pending = api<{ readers?: Reader[] }>('GET', '/v1/readers')
      .then(
        (r) => {
          this.readers = r.readers || [];
          this.error = null;
          this.answered = true;
          this.render();
          this.refreshed(askedAt);
        },
        (e: PageError) => {
          this.error = e;
          this.answered = true;
          this.render();
        },
      )
      .then(() => {
        this.pending = null;
      });
    return this.pending;
  }

  /** The first user slot with a card in it, of any reader. */
  firstCard(): { readerId: string; slot: number } | null {
    for (const r of this.readers) {
      const s = (r.slots || []).find((x) => isUserSlot(x) && hasCard(x));
      if (s) return { readerId: r.id, slot: s.slot };
    }
    return null;
  }

  find(id: string): Reader | null {
    return this.readers.find((r) => r.id === id) ?? null;
  }

  /** A slot's name in the page's language: SAM slots by name (SAM1 …), user slots by kind. */
  slotName(readerId: string, slot: number): string {
    const s = this.find(readerId)?.slots?.find((x) => x.slot === slot);
    if (s && s.kind === 'sam') return /^SAM\d+$/.test(s.label || '') ? s.label : t('slot.samN', { n: slot - 0x10 });
    if (s) return t(`slot.${s.kind}`);
    if (slot >= 0x11 && slot <= 0x1f) return t('slot.samN', { n: slot - 0x10 });
    return t(slot === 0x02 ? 'slot.contactless' : 'slot.contact');
  }

  render(): void {
    const list = byId('readers');
    list.textContent = '';
    const none = byId('no-readers');
    const title = none.querySelector('.help-title') as HTMLElement;
    if (this.error) {
      none.hidden = false;
      title.textContent = this.error.code === 'DAEMON_UNREACHABLE' ? t('readers.unreachable') : errorText(this.error);
      return;
    }
    title.textContent = t('readers.none');
    none.hidden = !this.answered || this.readers.length > 0;
    for (const r of this.readers) list.appendChild(this.readerItem(r));
  }

  private readerItem(r: Reader): HTMLElement {
    const li = el('li');
    li.setAttribute('data-testid', 'reader');
    li.setAttribute('data-reader-id', r.id);
    const head = el('div');
    head.appendChild(el('span', 'reader-name', r.name));
    const badge = el('span', `badge ${r.health}`, t(`health.${r.health}`));
    badge.setAttribute('data-testid', 'reader-health');
    head.appendChild(badge);
    li.appendChild(head);
    li.appendChild(el('div', 'slots', [r.vendor, r.model, r.kind, r.id].filter(Boolean).join(' · ')));
    const slots = el('div', 'slots');
    (r.slots || []).forEach((s, i) => {
      if (i) slots.appendChild(document.createTextNode(' · '));
      // The device's own label is English ("user card"); SAM labels (SAM1…) are names, the rest is
      // shown by kind in the page's language, with the device label kept as a tooltip.
      const span = el('span', hasCard(s) ? 'slot-present' : '', `${this.slotName(r.id, s.slot)}: ${t(`slot.${s.card}`)}`);
      if (s.label) span.title = s.label;
      slots.appendChild(span);
    });
    li.appendChild(slots);
    // The detail is English from the device layer; in Chinese, the catalogue's text of its code.
    const detail = detailText(r.healthDetail);
    if (detail) {
      const d = el('div', 'slots', detail);
      d.title = r.healthDetail ?? '';
      li.appendChild(d);
    }
    return li;
  }
}
