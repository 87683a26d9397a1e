// The front-desk page: readers and their state, the cardholder when a card goes in, the QR verdict
// when a code is scanned, the last events. Same-origin REST + the /v1/events WebSocket, which it
// resumes after the last event seen when the connection drops. Cardholder data lives only in the
// page's memory while the card is in the reader, and not even then forever: it is cleared on removal,
// when the reader goes offline, when the daemon is lost for a grace period, and after an idle limit.
// The ID number is masked unless revealed. A QR verdict is reset after a while and on the next card.
(function () {
  'use strict';
  var I = window.YikaI18n;
  var t = I.t;
  // The daemon's `desk` config, put into <meta name="yika-desk"> when it serves the page.
  var DESK = { idleClearSeconds: 120, qrResultSeconds: 30, offlineGraceSeconds: 3 };
  try {
    var meta = document.querySelector('meta[name=yika-desk]');
    var given = meta ? JSON.parse(meta.getAttribute('content') || '{}') : {};
    Object.keys(DESK).forEach(function (k) { if (typeof given[k] === 'number' && given[k] >= 0) DESK[k] = given[k]; });
  } catch (e) { /* defaults */ }
  // Basic information and photo only: what the desk needs to recognise the patient, read fast.
  var CARD_FILES = 'DDF1/EF05,DDF1/EF06,DDF1/EF07';
  var MAX_EVENTS = 30;
  var REVEAL_MS = 15000;

  var state = {
    readers: [],
    readersError: null,
    lastSeq: undefined,
    card: { status: 'idle' },
    qr: null,
    events: [],
    revealed: false,
    health: null,
  };
  var readToken = 0;
  var revealTimer = null;
  var idleTimer = null;
  var qrTimer = null;
  var graceTimer = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- REST --------------------------------------------------------------------------------------
  function api(method, path, body) {
    var init = { method: method, headers: { accept: 'application/json' } };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        if (!res.ok) {
          var err = (json && json.error) || {};
          throw { code: err.code || 'HTTP_' + res.status, message: err.message || 'HTTP ' + res.status, messageZh: err.messageZh, status: res.status };
        }
        return json;
      });
    }, function () {
      throw { code: 'DAEMON_UNREACHABLE', message: t('readers.unreachable'), status: 0 };
    });
  }

  // ---- readers -----------------------------------------------------------------------------------
  var refreshPending = null;
  function refreshReaders() {
    if (refreshPending) return refreshPending;
    var askedAt = performance.now();
    refreshPending = api('GET', '/v1/readers').then(function (r) {
      state.readers = r.readers || [];
      state.readersError = null;
      renderReaders();
      checkCardStillThere(askedAt);
      // A card already in a reader when the page opens (or when the page comes back after losing the
      // daemon or the reader) is read at once. Not after the idle limit: that wants a click.
      var c = state.card;
      if (c.status === 'idle' || (c.status === 'cleared' && c.reason !== 'idle')) {
        for (var i = 0; i < state.readers.length; i++) {
          var rd = state.readers[i];
          var s = userSlotWithCard(rd);
          if (s) { readCard(rd.id, s.slot); break; }
        }
      }
    }, function (e) {
      state.readersError = e;
      renderReaders();
    }).then(function () { refreshPending = null; });
    return refreshPending;
  }

  function isUserSlot(slot) { return slot.kind !== 'sam' && slot.slot < 0x10; }
  function findReader(id) {
    for (var i = 0; i < state.readers.length; i++) if (state.readers[i].id === id) return state.readers[i];
    return null;
  }
  /** A slot's name in the page's language: SAM slots by name (SAM1 …), user slots by kind. */
  function slotName(readerId, slot) {
    var r = findReader(readerId);
    var s = null;
    if (r) for (var i = 0; i < (r.slots || []).length; i++) if (r.slots[i].slot === slot) s = r.slots[i];
    if (s && s.kind === 'sam') return /^SAM\d+$/.test(s.label || '') ? s.label : t('slot.samN', { n: slot - 0x10 });
    if (s) return t('slot.' + s.kind);
    if (slot >= 0x11 && slot <= 0x1f) return t('slot.samN', { n: slot - 0x10 });
    return t(slot === 0x02 ? 'slot.contactless' : 'slot.contact');
  }
  /** The card shown (or being read) must still be in a reader that is online; else it goes. */
  function checkCardStillThere(askedAt) {
    var c = state.card;
    // Only a list asked for after the card was shown can say it is gone (not one from before the read).
    if (c.status !== 'shown' || !c.readerId || !(askedAt > c.shownAt)) return;
    var r = findReader(c.readerId);
    if (!r || r.health === 'offline') { clearCard('offline'); return; }
    for (var i = 0; i < (r.slots || []).length; i++) {
      var s = r.slots[i];
      if (s.slot === c.slot && s.card === 'absent') { hideId(); stopIdle(); state.card = { status: 'removed' }; renderCard(); return; }
    }
  }
  function userSlotWithCard(reader) {
    for (var i = 0; i < (reader.slots || []).length; i++) {
      var s = reader.slots[i];
      if (isUserSlot(s) && (s.card === 'present' || s.card === 'powered')) return s;
    }
    return null;
  }

  function renderReaders() {
    var list = $('readers');
    list.textContent = '';
    var none = $('no-readers');
    if (state.readersError) {
      none.hidden = false;
      none.querySelector('.help-title').textContent = state.readersError.code === 'DAEMON_UNREACHABLE' ? t('readers.unreachable') : I.errorText(state.readersError);
      return;
    }
    none.querySelector('.help-title').textContent = t('readers.none');
    none.hidden = state.readers.length > 0;
    state.readers.forEach(function (r) {
      var li = el('li');
      li.setAttribute('data-testid', 'reader');
      li.setAttribute('data-reader-id', r.id);
      var head = el('div');
      head.appendChild(el('span', 'reader-name', r.name));
      var badge = el('span', 'badge ' + r.health, t('health.' + r.health));
      badge.setAttribute('data-testid', 'reader-health');
      head.appendChild(badge);
      li.appendChild(head);
      var info = el('div', 'slots', [r.vendor, r.model, r.kind, r.id].filter(Boolean).join(' · '));
      li.appendChild(info);
      var slots = el('div', 'slots');
      (r.slots || []).forEach(function (s, i) {
        if (i) slots.appendChild(document.createTextNode(' · '));
        // The device's own label is English ("user card"); SAM labels (SAM1…) are names, the rest is
        // shown by kind in the page's language, with the device label kept as a tooltip.
        var name = slotName(r.id, s.slot);
        var span = el('span', s.card === 'present' || s.card === 'powered' ? 'slot-present' : '', name + ': ' + t('slot.' + s.card));
        if (s.label) span.title = s.label;
        slots.appendChild(span);
      });
      li.appendChild(slots);
      // The detail is English from the device layer; in Chinese, the catalogue's text of its code.
      var detail = I.detailText(r.healthDetail);
      if (detail) { var d = el('div', 'slots', detail); d.title = r.healthDetail; li.appendChild(d); }
      list.appendChild(li);
    });
  }

  // ---- the card ----------------------------------------------------------------------------------
  // Errors that mean the card is gone: no point in a second, smaller read.
  var GONE = /^(CARD_REMOVED|CARD_CHANGED|NO_CARD|CARD_ABSENT|DAEMON_UNREACHABLE)$/;

  function readCard(readerId, slot) {
    var token = ++readToken;
    hideId();
    stopIdle();
    state.card = { status: 'reading', readerId: readerId, slot: slot, removed: false };
    renderCard();
    var t0 = performance.now();
    var base = '/v1/readers/' + encodeURIComponent(readerId) + '/healthcard?files=';
    function shown(data, partial) {
      if (token !== readToken) return;
      if (state.card.removed) { state.card = { status: 'removed' }; renderCard(); return; }
      state.card = { status: 'shown', readerId: readerId, slot: slot, holder: extractHolder(data), ms: Math.round(performance.now() - t0), partial: partial, shownAt: performance.now() };
      startIdle();
      renderCard();
    }
    function failed(e) {
      if (token !== readToken) return;
      state.card = { status: 'error', readerId: readerId, slot: slot, error: e, removed: state.card.removed };
      renderCard();
    }
    api('GET', base + encodeURIComponent(CARD_FILES)).then(function (data) { shown(data, null); }, function (e) {
      if (token !== readToken) return;
      if (GONE.test(e.code || '') || state.card.removed) { failed(e); return; }
      // The cardholder files need the SAM; the card file (EF05: card number, issuer) does not. Show
      // what can be read, and say why the rest cannot.
      api('GET', base + encodeURIComponent('DDF1/EF05')).then(function (data) { shown(data, e); }, function () { failed(e); });
    });
  }

  function onCardRemoved(ev) {
    var c = state.card;
    if (c.readerId && (c.readerId !== ev.readerId || c.slot !== ev.slot)) return;
    if (c.status === 'reading') { c.removed = true; return; } // the read's outcome decides what to show
    if (c.status === 'error') { c.removed = true; renderCard(); return; } // keep the error visible
    hideId();
    stopIdle();
    state.card = { status: 'removed' };
    renderCard();
  }

  /**
   * Takes the cardholder off the page (and cancels a read in flight): the reader went offline
   * ('offline'), the daemon is gone ('disconnected') or nobody used the page for a while ('idle').
   */
  function clearCard(reason) {
    var c = state.card;
    if (c.status === 'idle' || c.status === 'removed' || c.status === 'cleared') return;
    readToken++;
    hideId();
    stopIdle();
    state.card = { status: 'cleared', reason: reason, readerId: c.readerId, slot: c.slot };
    renderCard();
  }

  // ---- the idle limit: a card forgotten in the reader does not show its holder to the next patient
  function startIdle() {
    stopIdle();
    idleTimer = setTimeout(function () { idleTimer = null; clearCard('idle'); }, DESK.idleClearSeconds * 1000);
  }
  function stopIdle() { if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; } }
  function activity() { if (idleTimer && state.card.status === 'shown') startIdle(); }
  document.addEventListener('pointerdown', activity, true);
  document.addEventListener('keydown', activity, true);

  /**
   * Finds a field anywhere in the read result: as a key ({photo: …}, {name: {value: …}}) or as a
   * decoded item ({field: 'name', value: '…'} in a file's items).
   */
  function find(obj, key, depth) {
    depth = depth || 0;
    if (!obj || typeof obj !== 'object' || depth > 6) return undefined;
    if (Array.isArray(obj)) {
      for (var j = 0; j < obj.length; j++) {
        var it = obj[j];
        if (it && typeof it === 'object' && it.field === key && 'value' in it) return it.value;
      }
    } else if (Object.prototype.hasOwnProperty.call(obj, key)) {
      var v = obj[key];
      if (v && typeof v === 'object' && !Array.isArray(v) && 'value' in v) return v.value;
      return v;
    }
    var keys = Object.keys(obj);
    for (var i = 0; i < keys.length; i++) {
      var found = find(obj[keys[i]], key, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  function extractHolder(data) {
    var files = (data && data.files) || {};
    var photoFile = files['DDF1/EF07'];
    var photo = find(data, 'photo');
    if (photo === undefined && photoFile) photo = photoFile.base64 || find(photoFile, 'base64');
    if (photo && typeof photo === 'object') photo = photo.base64 || photo.data || photo.value || null;
    if (typeof photo === 'string' && /^[0-9A-Fa-f]+$/.test(photo) && photo.length % 2 === 0 && photo.slice(0, 4).toUpperCase() === 'FFD8') photo = hexToBase64(photo);
    return {
      name: find(data, 'name'),
      sex: find(data, 'sex'),
      birthDate: find(data, 'birthDate'),
      // Never the card number in place of the ID number: they are different things.
      idNumber: find(data, 'idNumber'),
      cardNumber: find(data, 'cardNumber'),
      issuer: find(data, 'issuerName'),
      photo: typeof photo === 'string' && photo.length ? photo : null,
    };
  }

  function hexToBase64(hex) {
    var bin = '';
    for (var i = 0; i < hex.length; i += 2) bin += String.fromCharCode(parseInt(hex.substr(i, 2), 16));
    return btoa(bin);
  }

  function sexText(v) {
    if (v === null || v === undefined || v === '') return '—';
    var n = parseInt(String(v), 16);
    if (!isNaN(n) && (n === 0 || n === 1 || n === 2 || n === 9)) return t('sex.' + n);
    return String(v);
  }
  function dateText(v) {
    var s = v ? String(v) : '';
    return /^\d{8}$/.test(s) ? s.slice(0, 4) + '-' + s.slice(4, 6) + '-' + s.slice(6) : s || '—';
  }
  function maskId(id) {
    var s = id ? String(id) : '';
    if (s.length < 10) return s ? s.replace(/./g, '*') : '—';
    return s.slice(0, 6) + s.slice(6, -4).replace(/./g, '*') + s.slice(-4);
  }
  function photoUrl(b64) {
    var mime = b64.indexOf('iVBOR') === 0 ? 'image/png' : b64.indexOf('R0lG') === 0 ? 'image/gif' : 'image/jpeg';
    return 'data:' + mime + ';base64,' + b64;
  }

  function hideId() {
    state.revealed = false;
    if (revealTimer) { clearTimeout(revealTimer); revealTimer = null; }
  }

  /** An error in the card panel: the text in the page's language; the code as data (English page: shown). */
  function showError(title, err) {
    var box = $('card-error');
    box.hidden = false;
    box.setAttribute('data-code', (err && err.code) || '');
    $('card-error-title').textContent = title;
    $('card-error-text').textContent = I.errorText(err);
    $('card-error-code').textContent = I.lang === 'zh' ? '' : (err && err.code) || '';
  }

  function renderCard() {
    var c = state.card;
    var status = $('card-status');
    var holder = $('holder');
    var error = $('card-error');
    status.setAttribute('data-state', c.status);
    if (c.status === 'cleared') status.setAttribute('data-reason', c.reason); else status.removeAttribute('data-reason');
    holder.hidden = c.status !== 'shown';
    error.hidden = true;
    error.removeAttribute('data-code');
    $('reread').hidden = true;
    $('card-meta').textContent = '';
    if (c.status !== 'shown') {
      // Nothing of the cardholder stays in the page once it is not shown.
      ['holder-name', 'holder-sex', 'holder-birth', 'holder-id', 'holder-card'].forEach(function (id) { $(id).textContent = ''; });
      $('holder-photo').removeAttribute('src');
      $('holder-photo').hidden = true;
    }
    holder.removeAttribute('data-partial');
    switch (c.status) {
      case 'idle': status.textContent = t('card.insert'); break;
      case 'reading': status.textContent = t('card.reading'); break;
      case 'removed': status.textContent = t('card.removed') + ' · ' + t('card.insert'); break;
      case 'cleared':
        status.textContent = t('card.cleared.' + c.reason);
        // After the idle limit the card may still be in the reader: one click shows it again.
        if (c.reason === 'idle' && c.readerId) $('reread').hidden = false;
        break;
      case 'error': {
        status.textContent = c.removed ? t('card.removed') : '';
        showError(t('card.failed'), c.error);
        if (c.removed && /REMOVED|CHANGED|ABSENT|NO_CARD/.test(c.error.code || '')) $('card-error-text').textContent = t('card.removedDuringRead');
        break;
      }
      case 'shown': {
        var h = c.holder;
        // A partial read says so: it is not 读卡完成.
        status.textContent = c.partial ? t('card.readPartial') : t('card.read');
        status.setAttribute('data-state', c.partial ? 'partial' : 'shown');
        if (c.partial) holder.setAttribute('data-partial', 'true');
        $('holder-name').textContent = h.name || '—';
        $('holder-sex').textContent = sexText(h.sex);
        $('holder-birth').textContent = dateText(h.birthDate);
        // The ID row shows only an ID number; the card number has its own row, shown when read.
        $('row-id').hidden = $('row-id-dd').hidden = !h.idNumber && !!c.partial;
        $('holder-id').textContent = state.revealed ? String(h.idNumber || '—') : maskId(h.idNumber);
        $('reveal').hidden = !h.idNumber;
        $('reveal').textContent = state.revealed ? t('card.hide') : t('card.reveal');
        // The card number only when there is no ID number to show (a partial read), and masked like
        // it: on many cards it is the ID number.
        $('row-card').hidden = $('row-card-dd').hidden = !h.cardNumber || !!h.idNumber;
        $('holder-card').textContent = h.cardNumber && !h.idNumber ? (state.revealed ? String(h.cardNumber) : maskId(h.cardNumber)) : '';
        $('reveal-card').textContent = state.revealed ? t('card.hide') : t('card.reveal');
        var img = $('holder-photo');
        if (h.photo) { img.src = photoUrl(h.photo); img.hidden = false; $('holder-nophoto').hidden = true; }
        else { img.hidden = true; $('holder-nophoto').hidden = false; }
        $('card-meta').textContent = t('card.readIn', { ms: c.ms, reader: c.readerId }) + (h.issuer ? ' · ' + h.issuer : '');
        if (c.partial) showError(t('card.partial'), c.partial);
        break;
      }
    }
  }

  $('reread').addEventListener('click', function () {
    var c = state.card;
    if (c.status === 'cleared' && c.readerId) readCard(c.readerId, c.slot);
  });

  function toggleReveal() {
    if (state.card.status !== 'shown') return;
    state.revealed = !state.revealed;
    if (revealTimer) clearTimeout(revealTimer);
    if (state.revealed) revealTimer = setTimeout(function () { state.revealed = false; renderCard(); }, REVEAL_MS);
    renderCard();
  }
  $('reveal').addEventListener('click', toggleReveal);
  $('reveal-card').addEventListener('click', toggleReveal);

  // ---- QR ----------------------------------------------------------------------------------------
  // A verdict stays DESK.qrResultSeconds, less when the code expires first; the next card or scan
  // replaces it. A verdict next to the wrong patient is worse than none.
  function showQr(result) {
    state.qr = result;
    if (qrTimer) { clearTimeout(qrTimer); qrTimer = null; }
    if (result && !result.pending) {
      var ms = DESK.qrResultSeconds * 1000;
      if (result.ok && result.expiresAt) {
        var left = new Date(result.expiresAt).getTime() - Date.now();
        if (!isNaN(left)) ms = Math.max(0, Math.min(ms, left));
      }
      qrTimer = setTimeout(function () { qrTimer = null; state.qr = null; renderQr(); }, ms);
    }
    renderQr();
  }

  function renderQr() {
    var r = state.qr;
    var box = $('qr-result');
    box.removeAttribute('data-code');
    if (!r) { box.setAttribute('data-state', 'none'); $('qr-verdict').textContent = t('qr.waiting'); $('qr-reason').textContent = ''; $('qr-extra').textContent = ''; $('qr-mark').textContent = '▢'; return; }
    if (r.pending) { box.setAttribute('data-state', 'none'); $('qr-verdict').textContent = t('qr.verifying'); $('qr-reason').textContent = ''; $('qr-extra').textContent = ''; return; }
    if (r.failed) {
      box.setAttribute('data-state', 'invalid');
      box.setAttribute('data-code', r.code || '');
      $('qr-mark').textContent = '!';
      $('qr-verdict').textContent = t('qr.failed');
      $('qr-reason').textContent = I.errorText(r) + (I.lang === 'zh' ? '' : ' (' + r.code + ')');
      $('qr-extra').textContent = '';
      return;
    }
    var kind = r.ok ? 'valid' : r.code === 'LEGACY_ONLINE_ONLY' ? 'online' : 'invalid';
    box.setAttribute('data-state', kind);
    box.setAttribute('data-code', r.code);
    $('qr-mark').textContent = r.ok ? '✓' : kind === 'online' ? '⟳' : '✗';
    $('qr-verdict').textContent = t('qr.' + kind);
    $('qr-reason').textContent = I.qrMessage(r.code, r.message) + (r.ok || I.lang === 'zh' ? '' : ' (' + r.code + ')');
    // Not a health code: say what it is and what the desk does with it (a payment code shows masked only).
    box.setAttribute('data-kind', r.kind || '');
    if (r.kind && r.kind !== 'ehc1') {
      var scheme = r.scheme ? t('qr.scheme.' + r.scheme) : '';
      $('qr-reason').textContent = t('qr.kind.' + r.kind, { scheme: scheme }) + (r.masked ? ' ' + r.masked : '') + t('qr.sep') + t('qr.do.' + r.kind);
    }
    var extra = $('qr-extra');
    extra.textContent = '';
    var parts = [];
    parts.push(typeof r.bundleAge === 'number' ? t('qr.bundleAge', { age: I.age(r.bundleAge) }) : t('qr.noBundle'));
    if (r.type) parts.push(t('qr.type.' + r.type));
    if (r.ok && r.expiresAt) parts.push(t('qr.expires', { time: new Date(r.expiresAt).toLocaleTimeString() }));
    if (r.cached) parts.push(t('qr.cached'));
    extra.appendChild(document.createTextNode(parts.join(' · ')));
    if (r.warnings && r.warnings.length) {
      extra.appendChild(el('div', 'warnings', '⚠ ' + r.warnings.map(I.warning).join('；')));
    }
    // A valid static code (printed or a screenshot) needs the desk's second check; nothing is recorded.
    if (r.ok && r.staticCheck && r.staticCheck !== 'none') {
      $('qr-verdict').textContent = t('qr.validStatic');
      var ask = el('div', 'static-check', '☞ ' + t('qr.check.' + r.staticCheck));
      ask.setAttribute('data-testid', 'qr-static-check');
      extra.appendChild(ask);
    }
  }

  $('qr-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = $('qr-input');
    var text = input.value.trim();
    input.value = '';
    if (!text) return;
    showQr({ pending: true });
    api('POST', '/v1/qr/verify', { text: text }).then(showQr, function (err) {
      showQr({ failed: true, code: err.code, message: err.message, messageZh: err.messageZh });
    });
  });

  // A keyboard-wedge scanner types the code wherever the focus is: any printable key pressed while
  // no other field has the focus goes to the scanner input, so a scan is never lost.
  document.addEventListener('keydown', function (e) {
    var input = $('qr-input');
    var active = document.activeElement;
    if (active === input || e.ctrlKey || e.metaKey || e.altKey) return;
    if (active && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA')) return;
    if (e.key.length === 1) {
      input.focus();
      input.value += e.key;
      e.preventDefault();
    }
  });

  // ---- events ------------------------------------------------------------------------------------
  function eventText(ev) {
    switch (ev.type) {
      case 'qr.scanned': {
        var r = ev.result || {};
        var verdict = t(r.ok ? 'qr.valid' : r.code === 'LEGACY_ONLINE_ONLY' ? 'qr.online' : 'qr.invalid');
        return t('ev.qr.scanned', { code: I.lang === 'zh' ? verdict : verdict + ' ' + (r.code || '') });
      }
      case 'reader.health': return t('ev.reader.health', { health: t('health.' + ev.health), detail: I.detailText(ev.detail) });
      case 'reader.detached': return t('ev.reader.detached', { reason: I.detailText(ev.reason) });
      case 'card.inserted': case 'card.removed': return t('ev.' + ev.type, { slot: slotName(ev.readerId, ev.slot) });
      case 'local.gap': return t('ev.resumeGap');
      default: return t('ev.' + ev.type, ev);
    }
  }

  function addEvent(ev) {
    state.events.unshift(ev);
    if (state.events.length > MAX_EVENTS) state.events.length = MAX_EVENTS;
    renderEvents();
  }

  function renderEvents() {
    var list = $('events');
    list.textContent = '';
    state.events.forEach(function (ev) {
      var li = el('li');
      li.setAttribute('data-type', ev.type);
      var time = el('time', '', new Date(ev.at).toLocaleTimeString());
      li.appendChild(time);
      li.appendChild(document.createTextNode(eventText(ev) + (ev.readerId && ev.type !== 'local.gap' ? ' · ' + ev.readerId : '')));
      list.appendChild(li);
    });
  }

  function handleEvent(ev) {
    addEvent(ev);
    switch (ev.type) {
      case 'reader.detached':
        if (state.card.readerId === ev.readerId) clearCard('offline');
        refreshReaders(); refreshHealth();
        break;
      case 'reader.health':
        if (ev.health === 'offline' && state.card.readerId === ev.readerId) clearCard('offline');
        refreshReaders(); refreshHealth();
        break;
      case 'reader.attached':
        refreshReaders(); refreshHealth();
        break;
      case 'card.inserted':
        refreshReaders();
        if (ev.slot < 0x10) { showQr(null); readCard(ev.readerId, ev.slot); }
        break;
      case 'card.removed':
        refreshReaders();
        if (ev.slot < 0x10) onCardRemoved(ev);
        break;
      case 'qr.scanned':
        if (ev.result) showQr(ev.result);
        break;
    }
  }

  var retryMs = 500;
  function connect() {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/events' + (state.lastSeq !== undefined ? '?after=' + state.lastSeq : '');
    var ws;
    try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    ws.onmessage = function (m) {
      var msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (msg.type === 'stream.hello') {
        retryMs = 500;
        setConn('live');
        daemonBack();
        if (state.lastSeq === undefined) state.lastSeq = msg.position;
        else if (msg.position < state.lastSeq) {
          // The daemon restarted: its sequence starts again and nothing before can be replayed.
          state.lastSeq = msg.position;
          addEvent({ type: 'local.gap', at: new Date().toISOString() });
          refreshReaders();
        } else if (msg.resume && !msg.resume.complete) { addEvent({ type: 'local.gap', at: new Date().toISOString() }); refreshReaders(); }
        return;
      }
      if (msg.type === 'stream.heartbeat' || typeof msg.seq !== 'number') return;
      if (state.lastSeq !== undefined && msg.seq <= state.lastSeq) return;
      state.lastSeq = msg.seq;
      handleEvent(msg);
    };
    ws.onclose = function () { setConn('down'); daemonLost(); scheduleReconnect(); };
    ws.onerror = function () { /* onclose follows */ };
  }
  function scheduleReconnect() {
    var wait = retryMs;
    retryMs = Math.min(5000, retryMs * 2);
    setTimeout(function () { refreshReaders(); connect(); }, wait);
  }
  // Without the daemon the page cannot know whether the card is still in: after a short grace (a
  // daemon restart) it clears the cardholder and the QR verdict and says so in a banner.
  function daemonLost() {
    state.health = null;
    renderHealth();
    if (graceTimer) return;
    graceTimer = setTimeout(function () {
      clearCard('disconnected');
      showQr(null);
      $('banner').hidden = false;
    }, DESK.offlineGraceSeconds * 1000);
  }
  function daemonBack() {
    if (graceTimer) { clearTimeout(graceTimer); graceTimer = null; }
    $('banner').hidden = true;
    refreshHealth();
    refreshReaders();
    loadErrorCatalog();
  }
  function setConn(s) {
    $('conn-dot').className = 'dot ' + (s === 'live' ? 'live' : s === 'down' ? 'down' : '');
    var text = $('conn-text');
    text.setAttribute('data-i18n', 'conn.' + s);
    text.textContent = t('conn.' + s);
    $('connection').setAttribute('data-state', s);
  }

  // ---- daemon health ------------------------------------------------------------------------------
  // Follows the events: fetched when the connection comes up and on every reader event, and gone the
  // moment the connection drops (so it never says "ok" while the header says the service is lost).
  // A slow poll while connected catches what has no event (the QR trust list going stale).
  var healthToken = 0;
  function refreshHealth() {
    var token = ++healthToken;
    api('GET', '/v1/health').then(function (h) {
      if (token !== healthToken || $('connection').getAttribute('data-state') === 'down') return;
      state.health = h; renderHealth();
    }, function () { if (token === healthToken) { state.health = null; renderHealth(); } });
  }
  function renderHealth() {
    var h = state.health;
    var node = $('health');
    var conn = $('connection').getAttribute('data-state');
    node.setAttribute('data-state', h ? h.status : conn === 'down' ? 'down' : 'unknown');
    if (!h) { node.textContent = conn === 'down' ? t('daemon.down') : ''; return; }
    var text = t('daemon.status', { version: h.version, status: t('health.' + h.status) });
    if (h.degraded && h.degraded.length) {
      var items = h.degraded.map(function (d) { return I.lang === 'zh' ? d.reasonZh || t('error.unknown') : d.component + ': ' + d.reason; });
      text += ' · ' + t('daemon.degraded', { items: items.join(I.lang === 'zh' ? '；' : '; ') });
    }
    node.textContent = text;
  }
  function loadErrorCatalog() {
    api('GET', '/v1/errors').then(function (c) { I.setErrorCatalog((c && c.errors) || []); renderAll(); }, function () { /* the page's own texts remain */ });
  }

  // ---- language ----------------------------------------------------------------------------------
  function renderAll() {
    I.setLang(I.lang);
    $('lang').textContent = I.lang === 'zh' ? 'English' : '中文';
    renderReaders(); renderCard(); renderQr(); renderEvents(); renderHealth();
  }
  $('lang').addEventListener('click', function () { I.setLang(I.lang === 'zh' ? 'en' : 'zh'); renderAll(); });

  // ---- start -------------------------------------------------------------------------------------
  renderAll();
  refreshReaders();
  setInterval(function () { if ($('connection').getAttribute('data-state') === 'live') refreshHealth(); }, 60000);
  connect();
})();
