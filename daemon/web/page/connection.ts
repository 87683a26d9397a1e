// The header's connection state (connecting, live, down) and the banner shown when the daemon has been
// lost for the grace period. Other panels ask it whether the page is connected.
import { byId } from './dom.ts';
import { t } from './i18n.ts';

type ConnState = 'connecting' | 'live' | 'down';

export function setConn(s: ConnState): void {
  byId('conn-dot').className = `dot ${s === 'live' ? 'live' : s === 'down' ? 'down' : ''}`;
  const text = byId('conn-text');
  text.setAttribute('data-i18n', `conn.${s}`);
  text.textContent = t(`conn.${s}`);
  byId('connection').setAttribute('data-state', s);
}

export function connState(): ConnState | null {
  return byId('connection').getAttribute('data-state') as ConnState | null;
}

export function showBanner(shown: boolean): void {
  byId('banner').hidden = !shown;
}
