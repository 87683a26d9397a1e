// The front-desk page (index.html loads this module; the others are imported from here): readers and
// their state, the cardholder when a card goes in, the QR verdict when a code is scanned, the last
// events, the daemon's health. Same-origin REST + the /v1/events WebSocket. This file wires the panels
// to the event stream; each panel is its own module.
import { scannedResult, type ErrorCatalog, type YikaEvent } from './api-shapes.ts';
import { api } from './api.ts';
import { CardView } from './card-view.ts';
import { setConn, showBanner } from './connection.ts';
import { readDeskSettings } from './desk-config.ts';
import { byId } from './dom.ts';
import { EventStream } from './event-stream.ts';
import { EventLog } from './events-view.ts';
import { HealthFooter } from './health-view.ts';
import { currentLang, setLang } from './i18n.ts';
import { setErrorCatalog } from './messages.ts';
import { QrView } from './qr-view.ts';
import { ReaderList } from './readers.ts';

const desk = readDeskSettings();
const card = new CardView(desk.idleClearSeconds);
const qr = new QrView(desk.qrResultSeconds);
const health = new HealthFooter();
const readers = new ReaderList((askedAt) => {
  card.checkStillThere((id) => readers.find(id), askedAt);
  // A card already in a reader when the page opens (or comes back after losing the daemon or the
  // reader) is read at once.
  const found = card.wantsRead() ? readers.firstCard() : null;
  if (found) card.read(found.readerId, found.slot);
});
const events = new EventLog((readerId, slot) => readers.slotName(readerId, slot));
let graceTimer: ReturnType<typeof setTimeout> | null = null;

function cardReaderId(): string | undefined {
  return 'readerId' in card.state ? card.state.readerId : undefined;
}

function onEvent(ev: YikaEvent): void {
  events.add(ev);
  switch (ev.type) {
    case 'reader.detached':
    case 'reader.health':
      if ((ev.type === 'reader.detached' || ev.health === 'offline') && cardReaderId() === ev.readerId) card.clear('offline');
      readers.refresh();
      health.refresh();
      break;
    case 'reader.attached':
      readers.refresh();
      health.refresh();
      break;
    case 'card.inserted':
      readers.refresh();
      if (ev.slot < 0x10) {
        qr.reset();
        card.read(ev.readerId, ev.slot);
      }
      break;
    case 'card.removed':
      readers.refresh();
      if (ev.slot < 0x10) card.removed(ev.readerId, ev.slot);
      break;
    case 'qr.scanned':
      if (ev.result) qr.showResult(scannedResult(ev));
      break;
  }
}

// Without the daemon the page cannot know whether the card is still in: after a short grace (a
// daemon restart) it clears the cardholder and the QR verdict and says so in a banner.
function daemonLost(): void {
  health.forget();
  if (graceTimer) return;
  graceTimer = setTimeout(() => {
    card.clear('disconnected');
    qr.reset();
    showBanner(true);
  }, desk.offlineGraceSeconds * 1000);
}

// Back: everything that may have changed meanwhile is read again, once, after the stream is
// subscribed (so no change can fall between the list and the first event).
function daemonBack(): void {
  if (graceTimer) clearTimeout(graceTimer);
  graceTimer = null;
  showBanner(false);
  health.refresh();
  readers.refresh();
  api<ErrorCatalog>('GET', '/v1/errors').then(
    (c) => {
      setErrorCatalog((c && c.errors) || []);
      renderAll();
    },
    () => {
      /* the page's own texts remain */
    },
  );
}

const stream = new EventStream({
  live(gap) {
    setConn('live');
    daemonBack();
    if (gap) events.addGap();
  },
  event: onEvent,
  down(wasLive) {
    setConn('down');
    daemonLost();
    // An attempt that never went live: is the daemon there at all (the readers panel says so), or is
    // only the stream refused? Once per attempt; a live connection's hello reads the list itself.
    if (!wasLive) readers.refresh();
  },
});

function renderAll(): void {
  setLang(currentLang());
  byId('lang').textContent = currentLang() === 'zh' ? 'English' : '中文';
  readers.render();
  card.render();
  qr.render();
  events.render();
  health.render();
}

byId('lang').addEventListener('click', () => {
  setLang(currentLang() === 'zh' ? 'en' : 'zh');
  renderAll();
});

renderAll();
stream.connect();
