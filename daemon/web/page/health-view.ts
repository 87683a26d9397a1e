// The footer: the daemon's health (GET /v1/health), following the events: fetched when the connection
// comes up and on every reader event, gone the moment the connection drops (so it never says "ok"
// while the header says the service is lost). A slow poll while connected catches what has no event
// (the QR trust list going stale).
import type { HealthReport } from './api-shapes.ts';
import { api } from './api.ts';
import { connState } from './connection.ts';
import { byId } from './dom.ts';
import { currentLang, t } from './i18n.ts';

const POLL_MS = 60000;

export class HealthFooter {
  private health: HealthReport | null = null;
  private token = 0;

  constructor() {
    setInterval(() => {
      if (connState() === 'live') this.refresh();
    }, POLL_MS);
  }

  refresh(): void {
    const token = ++this.token;
    api<HealthReport>('GET', '/v1/health').then(
      (h) => {
        if (token !== this.token || connState() === 'down') return;
        this.health = h;
        this.render();
      },
      () => {
        if (token === this.token) this.forget();
      },
    );
  }

  /** The connection dropped: what the footer knew is no longer known. */
  forget(): void {
    this.health = null;
    this.render();
  }

  render(): void {
    const h = this.health;
    const node = byId('health');
    const down = connState() === 'down';
    node.setAttribute('data-state', h ? h.status : down ? 'down' : 'unknown');
    if (!h) {
      node.textContent = down ? t('daemon.down') : '';
      return;
    }
    let text = t('daemon.status', { version: h.version, status: t(`health.${h.status}`) });
    if (h.degraded && h.degraded.length) {
      const zh = currentLang() === 'zh';
      const items = h.degraded.map((d) => (zh ? d.reasonZh || t('error.unknown') : `${d.component}: ${d.reason}`));
      text += ` · ${t('daemon.degraded', { items: items.join(zh ? '；' : '; ') })}`;
    }
    node.textContent = text;
  }
}
