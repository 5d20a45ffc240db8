import type { Locale } from '../i18n';

const ZONE_NAMES: Record<string, { 'zh-CN': string; en: string }> = {
  'Asia/Shanghai': { 'zh-CN': '北京时间', en: 'Beijing time' },
  'Asia/Hong_Kong': { 'zh-CN': '香港时间', en: 'Hong Kong time' },
  'Asia/Tokyo': { 'zh-CN': '东京时间', en: 'Tokyo time' },
  UTC: { 'zh-CN': '协调世界时', en: 'UTC' },
  'Etc/UTC': { 'zh-CN': '协调世界时', en: 'UTC' },
};

/** A zone as people say it: 北京时间 / Beijing time, else the IANA name. */
export function zoneLabel(zone: string, locale: Locale): string {
  return ZONE_NAMES[zone]?.[locale] ?? zone;
}

const WEEKDAYS = {
  'zh-CN': ['周日', '周一', '周二', '周三', '周四', '周五', '周六'],
  en: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
};

/**
 * The common shapes said the way people say them ("每个工作日 09:00"); null for anything else.
 * Pure; the rest goes to cronstrue.
 */
export function describeSimple(expr: string, locale: Locale): string | null {
  const f = expr.trim().split(/\s+/);
  if (f.length !== 5) return null;
  const [min, hour, dom, mon, dow] = f as [string, string, string, string, string];
  if (!/^\d{1,2}$/.test(min) || !/^\d{1,2}$/.test(hour) || dom !== '*' || mon !== '*') return null;
  const time = `${hour.padStart(2, '0')}:${min.padStart(2, '0')}`;
  const zh = locale === 'zh-CN';
  if (dow === '*') return zh ? `每天 ${time}` : `Every day at ${time}`;
  if (dow === '1-5' || dow.toUpperCase() === 'MON-FRI') return zh ? `每个工作日 ${time}` : `Every weekday at ${time}`;
  if (dow === '0,6' || dow === '6,0' || dow === '6,7' || dow.toUpperCase() === 'SAT,SUN')
    return zh ? `每个周末 ${time}` : `Every weekend day at ${time}`;
  if (/^[0-7]$/.test(dow)) {
    const d = WEEKDAYS[locale][Number(dow) % 7];
    return zh ? `每${d} ${time}` : `Every ${d} at ${time}`;
  }
  return null;
}

/** A cron expression in words with its zone: "每个工作日 09:00（北京时间）", "Every weekday at 09:00 (Beijing time)". */
export async function describeCron(expr: string, zone: string, locale: Locale): Promise<string> {
  let text = describeSimple(expr, locale);
  if (!text) {
    try {
      // cronstrue's locales are loaded only when a schedule is shown.
      const { default: cronstrue } = await import('cronstrue/i18n.js');
      text = cronstrue.toString(expr, { locale: locale === 'zh-CN' ? 'zh_CN' : 'en', use24HourTimeFormat: true, verbose: false });
    } catch {
      text = expr;
    }
  }
  const z = zoneLabel(zone, locale);
  return locale === 'zh-CN' ? `${text}（${z}）` : `${text} (${z})`;
}

/** A moment shown in a zone: 2026-11-25 09:00:00 (the zone's wall clock). */
export function formatInZone(d: Date, zone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: zone, dateStyle: 'short', timeStyle: 'medium' }).format(d);
}
