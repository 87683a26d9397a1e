// The page's language: Chinese by default, English on request (remembered in localStorage); t(key,
// vars) fills {name} placeholders; setLang() also rewrites every [data-i18n] element of index.html.
import { en, type TextKey, zh } from './texts.ts';

type Lang = 'zh' | 'en';

let lang: Lang = 'zh';
try {
  lang = localStorage.getItem('yika.lang') === 'en' ? 'en' : 'zh';
} catch {
  // private mode: Chinese
}

export function currentLang(): Lang {
  return lang;
}

export function t(key: TextKey, vars?: object): string {
  let s: string = (lang === 'en' ? en[key] : zh[key]) || zh[key] || key;
  if (vars) {
    const values = vars as Record<string, unknown>;
    s = s.replace(/\{(\w+)\}/g, (_m, k: string) => (values[k] === undefined || values[k] === null ? '' : String(values[k])));
  }
  return s;
}

/** A data-i18n attribute names a text key; an unknown one shows as itself (as t() does). */
function isTextKey(key: string): key is TextKey {
  return Object.prototype.hasOwnProperty.call(zh, key);
}

export function setLang(l: Lang): void {
  lang = l === 'en' ? 'en' : 'zh';
  try {
    localStorage.setItem('yika.lang', lang);
  } catch {
    // not remembered
  }
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((node) => {
    const key = node.getAttribute('data-i18n') ?? '';
    node.textContent = isTextKey(key) ? t(key) : key;
  });
}

/** "3 分钟" / "3 min": how old the QR trust list is. */
export function age(seconds: number): string {
  if (seconds < 90) return t('age.s', { n: Math.round(seconds) });
  if (seconds < 5400) return t('age.m', { n: Math.round(seconds / 60) });
  if (seconds < 172800) return t('age.h', { n: Math.round(seconds / 3600) });
  return t('age.d', { n: Math.round(seconds / 86400) });
}
