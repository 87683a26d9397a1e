// The cardholder as the card panel shows it, taken from a health-card read (GET
// /v1/readers/:id/healthcard), and how each field is written: date 1990-01-31, sex in words, the ID
// and card numbers masked (first 6 and last 4 digits) until revealed, the photo as a data: URL.
// No DOM here.
import type { HealthCardRead } from './api-shapes.ts';
import { t } from './i18n.ts';

export interface Holder {
  name: string | null;
  sex: string | null;
  birthDate: string | null;
  idNumber: string | null;
  cardNumber: string | null;
  issuer: string | null;
  /** base64 of the JPEG (or PNG/GIF). */
  photo: string | null;
}

/**
 * Finds a field anywhere in the read result: as a key ({photo: …}, {name: {value: …}}) or as a
 * decoded item ({field: 'name', value: '…'} in a file's items).
 */
function find(obj: unknown, key: string, depth = 0): unknown {
  if (!obj || typeof obj !== 'object' || depth > 6) return undefined;
  if (Array.isArray(obj)) {
    for (const it of obj) if (it && typeof it === 'object' && it.field === key && 'value' in it) return it.value;
  } else if (Object.prototype.hasOwnProperty.call(obj, key)) {
    const v: unknown = (obj as Record<string, unknown>)[key];
    if (v && typeof v === 'object' && !Array.isArray(v) && 'value' in v) return v.value;
    return v;
  }
  for (const k of Object.keys(obj)) {
    const found = find((obj as Record<string, unknown>)[k], key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A field's value as text; nothing read (absent, null, empty) is null. */
function text(v: unknown): string | null {
  return v === undefined || v === null || v === '' ? null : String(v);
}

function photoOf(data: HealthCardRead): string | null {
  const photoFile = data?.files?.['DDF1/EF07'];
  let photo = find(data, 'photo');
  if (photo === undefined && photoFile) photo = photoFile.base64 || find(photoFile, 'base64');
  if (photo && typeof photo === 'object') {
    const p = photo as { base64?: unknown; data?: unknown; value?: unknown };
    photo = p.base64 || p.data || p.value || null;
  }
  if (typeof photo === 'string' && /^[0-9A-Fa-f]+$/.test(photo) && photo.length % 2 === 0 && photo.slice(0, 4).toUpperCase() === 'FFD8') photo = hexToBase64(photo);
  return typeof photo === 'string' && photo.length ? photo : null;
}

export function extractHolder(data: HealthCardRead): Holder {
  return {
    name: text(find(data, 'name')),
    sex: text(find(data, 'sex')),
    birthDate: text(find(data, 'birthDate')),
    // Never the card number in place of the ID number: they are different things.
    idNumber: text(find(data, 'idNumber')),
    cardNumber: text(find(data, 'cardNumber')),
    issuer: text(find(data, 'issuerName')),
    photo: photoOf(data),
  };
}

function hexToBase64(hex: string): string {
  let bin = '';
  for (let i = 0; i < hex.length; i += 2) bin += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return btoa(bin);
}

export function sexText(v: string | null): string {
  if (v === null || v === '') return '—';
  const n = parseInt(v, 16);
  if (n === 0 || n === 1 || n === 2 || n === 9) return t(`sex.${n}`);
  return v;
}

export function dateText(v: string | null): string {
  const s = v ?? '';
  return /^\d{8}$/.test(s) ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}` : s || '—';
}

export function maskId(id: string | null): string {
  const s = id ?? '';
  if (s.length < 10) return s ? s.replace(/./g, '*') : '—';
  return s.slice(0, 6) + s.slice(6, -4).replace(/./g, '*') + s.slice(-4);
}

export function photoUrl(b64: string): string {
  const mime = b64.startsWith('iVBOR') ? 'image/png' : b64.startsWith('R0lG') ? 'image/gif' : 'image/jpeg';
  return `data:${mime};base64,${b64}`;
}
