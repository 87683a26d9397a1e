// The QR panel: the verdict of the last code, from the reader's scanner (qr.scanned) or typed by a
// keyboard-wedge scanner into the page (POST /v1/qr/verify). A verdict stays desk.qrResultSeconds,
// less when the code expires first; the next card or scan replaces it. A verdict next to the wrong
// patient is worse than none.
import type { QrVerifyResult } from './api-shapes.ts';
import { api, type PageError } from './api.ts';
import { byId, el } from './dom.ts';
import { age, currentLang, t } from './i18n.ts';
import { errorText, qrMessage, warningText } from './messages.ts';

type QrState = { status: 'none' } | { status: 'pending' } | { status: 'failed'; error: PageError } | { status: 'result'; result: QrVerifyResult };

/** valid, online (an old code that only the national platform can check) or invalid. */
export function verdictOf(r: Partial<Pick<QrVerifyResult, 'ok' | 'code'>>): 'valid' | 'online' | 'invalid' {
  return r.ok ? 'valid' : r.code === 'LEGACY_ONLINE_ONLY' ? 'online' : 'invalid';
}

export class QrView {
  private state: QrState = { status: 'none' };
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly resultSeconds: number) {
    byId('qr-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = byId('qr-input', HTMLInputElement);
      const text = input.value.trim();
      input.value = '';
      if (!text) return;
      this.show({ status: 'pending' });
      api<QrVerifyResult>('POST', '/v1/qr/verify', { text }).then(
        (result) => this.show({ status: 'result', result }),
        (error: PageError) => this.show({ status: 'failed', error }),
      );
    });
    // A keyboard-wedge scanner types the code wherever the focus is: any printable key pressed while
    // no other field has the focus goes to the scanner input, so a scan is never lost.
    document.addEventListener('keydown', (e) => {
      const input = byId('qr-input', HTMLInputElement);
      const active = document.activeElement;
      if (active === input || e.ctrlKey || e.metaKey || e.altKey) return;
      if (active && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA')) return;
      if (e.key.length === 1) {
        input.focus();
        input.value += e.key;
        e.preventDefault();
      }
    });
  }

  showResult(result: QrVerifyResult): void {
    this.show({ status: 'result', result });
  }

  reset(): void {
    this.show({ status: 'none' });
  }

  private show(state: QrState): void {
    this.state = state;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (state.status === 'result' || state.status === 'failed') {
      let ms = this.resultSeconds * 1000;
      const r = state.status === 'result' ? state.result : null;
      if (r && r.ok && r.expiresAt) {
        const left = new Date(r.expiresAt).getTime() - Date.now();
        if (!isNaN(left)) ms = Math.max(0, Math.min(ms, left));
      }
      this.timer = setTimeout(() => {
        this.timer = null;
        this.state = { status: 'none' };
        this.render();
      }, ms);
    }
    this.render();
  }

  render(): void {
    const s = this.state;
    const box = byId('qr-result');
    box.removeAttribute('data-code');
    if (s.status === 'none' || s.status === 'pending') {
      box.setAttribute('data-state', 'none');
      byId('qr-verdict').textContent = t(s.status === 'none' ? 'qr.waiting' : 'qr.verifying');
      byId('qr-reason').textContent = '';
      byId('qr-extra').textContent = '';
      if (s.status === 'none') byId('qr-mark').textContent = '▢';
      return;
    }
    if (s.status === 'failed') {
      box.setAttribute('data-state', 'invalid');
      box.setAttribute('data-code', s.error.code || '');
      byId('qr-mark').textContent = '!';
      byId('qr-verdict').textContent = t('qr.failed');
      byId('qr-reason').textContent = errorText(s.error) + (currentLang() === 'zh' ? '' : ` (${s.error.code})`);
      byId('qr-extra').textContent = '';
      return;
    }
    renderResult(s.result);
  }
}

function renderResult(r: QrVerifyResult): void {
  const box = byId('qr-result');
  const kind = verdictOf(r);
  box.setAttribute('data-state', kind);
  box.setAttribute('data-code', r.code);
  byId('qr-mark').textContent = r.ok ? '✓' : kind === 'online' ? '⟳' : '✗';
  byId('qr-verdict').textContent = t(`qr.${kind}`);
  byId('qr-reason').textContent = qrMessage(r.code, r.message) + (r.ok || currentLang() === 'zh' ? '' : ` (${r.code})`);
  // Not a health code: say what it is and what the desk does with it (a payment code shows masked only).
  box.setAttribute('data-kind', r.kind || '');
  if (r.kind && r.kind !== 'ehc1') {
    const scheme = r.scheme ? t(`qr.scheme.${r.scheme}`) : '';
    byId('qr-reason').textContent = t(`qr.kind.${r.kind}`, { scheme }) + (r.masked ? ` ${r.masked}` : '') + t('qr.sep') + t(`qr.do.${r.kind}`);
  }
  const extra = byId('qr-extra');
  extra.textContent = '';
  const parts = [typeof r.bundleAge === 'number' ? t('qr.bundleAge', { age: age(r.bundleAge) }) : t('qr.noBundle')];
  if (r.type) parts.push(t(`qr.type.${r.type}`));
  if (r.ok && r.expiresAt) parts.push(t('qr.expires', { time: new Date(r.expiresAt).toLocaleTimeString() }));
  if (r.cached) parts.push(t('qr.cached'));
  extra.appendChild(document.createTextNode(parts.join(' · ')));
  if (r.warnings && r.warnings.length) extra.appendChild(el('div', 'warnings', `⚠ ${r.warnings.map(warningText).join('；')}`));
  // A valid static code (printed or a screenshot) needs the desk's second check; nothing is recorded.
  if (r.ok && r.staticCheck && r.staticCheck !== 'none') {
    byId('qr-verdict').textContent = t('qr.validStatic');
    const ask = el('div', 'static-check', `☞ ${t(`qr.check.${r.staticCheck}`)}`);
    ask.setAttribute('data-testid', 'qr-static-check');
    extra.appendChild(ask);
  }
}
