// The daemon's `desk` config (daemon/config/config-schema.ts DeskConfig), which it puts into
// <meta name="yika-desk"> when it serves the page (the CSP allows no inline script). Anything missing
// or malformed keeps the default.

interface DeskSettings {
  idleClearSeconds: number;
  qrResultSeconds: number;
  offlineGraceSeconds: number;
}

export function readDeskSettings(): DeskSettings {
  const desk: DeskSettings = { idleClearSeconds: 120, qrResultSeconds: 30, offlineGraceSeconds: 3 };
  try {
    const meta = document.querySelector('meta[name=yika-desk]');
    const given: unknown = meta ? JSON.parse(meta.getAttribute('content') || '{}') : {};
    for (const k of Object.keys(desk) as Array<keyof DeskSettings>) {
      const v = given && typeof given === 'object' ? (given as Record<string, unknown>)[k] : undefined;
      if (typeof v === 'number' && v >= 0) desk[k] = v;
    }
  } catch {
    // defaults
  }
  return desk;
}
