// The card panel. A card going in is read at once (basic information and photo: what the desk needs
// to recognise the patient, read fast); what it shows lives only in the page's memory while the card
// is in the reader, and not even then forever: it goes on removal, when the reader goes offline, when
// the daemon is lost for a grace period, and after an idle limit. The ID number is masked unless
// revealed (for 15 s). A partial read (no SAM: card file only) says so.
import type { HealthCardRead, Reader } from './api-shapes.ts';
import { api, type PageError } from './api.ts';
import { byId } from './dom.ts';
import { dateText, extractHolder, type Holder, maskId, photoUrl, sexText } from './holder.ts';
import { currentLang, t } from './i18n.ts';
import { errorText } from './messages.ts';

type ClearReason = 'offline' | 'disconnected' | 'idle';

type CardState =
  | { status: 'idle' }
  | { status: 'removed' }
  | { status: 'reading'; readerId: string; slot: number; removed: boolean }
  | { status: 'shown'; readerId: string; slot: number; holder: Holder; ms: number; partial: PageError | null; shownAt: number }
  | { status: 'error'; readerId: string; slot: number; error: PageError; removed: boolean }
  | { status: 'cleared'; reason: ClearReason; readerId: string; slot: number };

const CARD_FILES = 'DDF1/EF05,DDF1/EF06,DDF1/EF07';
const REVEAL_MS = 15000;
// Errors that mean the card is gone: no point in a second, smaller read.
const GONE = /^(CARD_REMOVED|CARD_CHANGED|NO_CARD|CARD_ABSENT|DAEMON_UNREACHABLE)$/;
const HOLDER_TEXT = ['holder-name', 'holder-sex', 'holder-birth', 'holder-id', 'holder-card'];

export class CardView {
  state: CardState = { status: 'idle' };
  private revealed = false;
  private readToken = 0;
  private revealTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly idleClearSeconds: number) {
    const activity = (): void => {
      if (this.idleTimer && this.state.status === 'shown') this.startIdle();
    };
    document.addEventListener('pointerdown', activity, true);
    document.addEventListener('keydown', activity, true);
    byId('reread').addEventListener('click', () => {
      const c = this.state;
      if (c.status === 'cleared' && c.readerId) this.read(c.readerId, c.slot);
    });
    byId('reveal').addEventListener('click', () => this.toggleReveal());
    byId('reveal-card').addEventListener('click', () => this.toggleReveal());
  }

  read(readerId: string, slot: number): void {
    const token = ++this.readToken;
    this.hideId();
    this.stopIdle();
    this.set({ status: 'reading', readerId, slot, removed: false });
    const t0 = performance.now();
    const base = `/v1/readers/${encodeURIComponent(readerId)}/healthcard?files=`;
    const shown = (data: HealthCardRead, partial: PageError | null): void => {
      if (token !== this.readToken) return;
      if (this.state.status === 'reading' && this.state.removed) return this.set({ status: 'removed' });
      const now = performance.now();
      this.state = { status: 'shown', readerId, slot, holder: extractHolder(data), ms: Math.round(now - t0), partial, shownAt: now };
      this.startIdle();
      this.render();
    };
    const failed = (error: PageError): void => {
      if (token !== this.readToken) return;
      this.set({ status: 'error', readerId, slot, error, removed: this.state.status === 'reading' && this.state.removed });
    };
    api<HealthCardRead>('GET', base + encodeURIComponent(CARD_FILES)).then(
      (data) => shown(data, null),
      (e: PageError) => {
        if (token !== this.readToken) return;
        if (GONE.test(e.code || '') || (this.state.status === 'reading' && this.state.removed)) return failed(e);
        // The cardholder files need the SAM; the card file (EF05: card number, issuer) does not. Show
        // what can be read, and say why the rest cannot.
        api<HealthCardRead>('GET', base + encodeURIComponent('DDF1/EF05')).then(
          (data) => shown(data, e),
          () => failed(e),
        );
      },
    );
  }

  /** card.removed of a user slot. */
  removed(readerId: string, slot: number): void {
    const c = this.state;
    if ('readerId' in c && c.readerId && (c.readerId !== readerId || c.slot !== slot)) return;
    if (c.status === 'reading') {
      c.removed = true; // the read's outcome decides what to show
      return;
    }
    if (c.status === 'error') {
      c.removed = true; // keep the error visible
      this.render();
      return;
    }
    this.gone();
  }

  /**
   * Takes the cardholder off the page (and cancels a read in flight): the reader went offline
   * ('offline'), the daemon is gone ('disconnected') or nobody used the page for a while ('idle').
   */
  clear(reason: ClearReason): void {
    const c = this.state;
    if (c.status === 'idle' || c.status === 'removed' || c.status === 'cleared') return;
    this.readToken++;
    this.hideId();
    this.stopIdle();
    this.set({ status: 'cleared', reason, readerId: c.readerId, slot: c.slot });
  }

  /**
   * A new readers list, asked for at askedAt: the card shown must still be in a reader that is online.
   * Only a list asked for after the card was shown can say it is gone (not one from before the read).
   */
  checkStillThere(find: (id: string) => Reader | null, askedAt: number): void {
    const c = this.state;
    if (c.status !== 'shown' || !c.readerId || !(askedAt > c.shownAt)) return;
    const r = find(c.readerId);
    if (!r || r.health === 'offline') return this.clear('offline');
    if ((r.slots || []).some((s) => s.slot === c.slot && s.card === 'absent')) this.gone();
  }

  /** A card already in a reader (the page opens, or comes back) is read at once; not after the idle limit: that wants a click. */
  wantsRead(): boolean {
    const c = this.state;
    return c.status === 'idle' || (c.status === 'cleared' && c.reason !== 'idle');
  }

  private gone(): void {
    this.hideId();
    this.stopIdle();
    this.set({ status: 'removed' });
  }

  private set(state: CardState): void {
    this.state = state;
    this.render();
  }

  // The idle limit: a card forgotten in the reader does not show its holder to the next patient.
  private startIdle(): void {
    this.stopIdle();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.clear('idle');
    }, this.idleClearSeconds * 1000);
  }

  private stopIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private hideId(): void {
    this.revealed = false;
    if (this.revealTimer) clearTimeout(this.revealTimer);
    this.revealTimer = null;
  }

  private toggleReveal(): void {
    if (this.state.status !== 'shown') return;
    this.revealed = !this.revealed;
    if (this.revealTimer) clearTimeout(this.revealTimer);
    if (this.revealed) {
      this.revealTimer = setTimeout(() => {
        this.revealed = false;
        this.render();
      }, REVEAL_MS);
    }
    this.render();
  }

  render(): void {
    const c = this.state;
    const status = byId('card-status');
    const holder = byId('holder');
    const error = byId('card-error');
    status.setAttribute('data-state', c.status);
    if (c.status === 'cleared') status.setAttribute('data-reason', c.reason);
    else status.removeAttribute('data-reason');
    holder.hidden = c.status !== 'shown';
    error.hidden = true;
    error.removeAttribute('data-code');
    byId('reread').hidden = true;
    byId('card-meta').textContent = '';
    if (c.status !== 'shown') {
      // Nothing of the cardholder stays in the page once it is not shown.
      for (const id of HOLDER_TEXT) byId(id).textContent = '';
      const img = byId('holder-photo', HTMLImageElement);
      img.removeAttribute('src');
      img.hidden = true;
    }
    holder.removeAttribute('data-partial');
    switch (c.status) {
      case 'idle':
        status.textContent = t('card.insert');
        break;
      case 'reading':
        status.textContent = t('card.reading');
        break;
      case 'removed':
        status.textContent = `${t('card.removed')} · ${t('card.insert')}`;
        break;
      case 'cleared':
        status.textContent = t(`card.cleared.${c.reason}`);
        // After the idle limit the card may still be in the reader: one click shows it again.
        if (c.reason === 'idle' && c.readerId) byId('reread').hidden = false;
        break;
      case 'error':
        status.textContent = c.removed ? t('card.removed') : '';
        showError(t('card.failed'), c.error);
        if (c.removed && /REMOVED|CHANGED|ABSENT|NO_CARD/.test(c.error.code || '')) byId('card-error-text').textContent = t('card.removedDuringRead');
        break;
      case 'shown':
        this.renderShown(c);
        break;
    }
  }

  private renderShown(c: Extract<CardState, { status: 'shown' }>): void {
    const h = c.holder;
    const status = byId('card-status');
    // A partial read says so: it is not 读卡完成.
    status.textContent = c.partial ? t('card.readPartial') : t('card.read');
    status.setAttribute('data-state', c.partial ? 'partial' : 'shown');
    if (c.partial) byId('holder').setAttribute('data-partial', 'true');
    byId('holder-name').textContent = h.name || '—';
    byId('holder-sex').textContent = sexText(h.sex);
    byId('holder-birth').textContent = dateText(h.birthDate);
    // The ID row shows only an ID number; the card number has its own row, shown when read.
    byId('row-id').hidden = byId('row-id-dd').hidden = !h.idNumber && !!c.partial;
    byId('holder-id').textContent = this.revealed ? h.idNumber || '—' : maskId(h.idNumber);
    byId('reveal').hidden = !h.idNumber;
    byId('reveal').textContent = this.revealed ? t('card.hide') : t('card.reveal');
    // The card number only when there is no ID number to show (a partial read), and masked like
    // it: on many cards it is the ID number.
    byId('row-card').hidden = byId('row-card-dd').hidden = !h.cardNumber || !!h.idNumber;
    byId('holder-card').textContent = h.cardNumber && !h.idNumber ? (this.revealed ? h.cardNumber : maskId(h.cardNumber)) : '';
    byId('reveal-card').textContent = this.revealed ? t('card.hide') : t('card.reveal');
    const img = byId('holder-photo', HTMLImageElement);
    img.hidden = !h.photo;
    byId('holder-nophoto').hidden = !!h.photo;
    if (h.photo) img.src = photoUrl(h.photo);
    byId('card-meta').textContent = t('card.readIn', { ms: c.ms, reader: c.readerId }) + (h.issuer ? ` · ${h.issuer}` : '');
    if (c.partial) showError(t('card.partial'), c.partial);
  }
}

/** An error in the card panel: the text in the page's language; the code as data (English page: shown). */
function showError(title: string, err: PageError): void {
  const box = byId('card-error');
  box.hidden = false;
  box.setAttribute('data-code', err.code || '');
  byId('card-error-title').textContent = title;
  byId('card-error-text').textContent = errorText(err);
  byId('card-error-code').textContent = currentLang() === 'zh' ? '' : err.code || '';
}
