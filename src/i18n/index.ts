import { en } from './en';
import { type Catalog, zhCN } from './zh-CN';

export type Locale = 'zh-CN' | 'en';
export type MessageKey = keyof Catalog;
export type Vars = Record<string, string | number | undefined | null>;
/** Looks up a catalog message and fills its `{name}` placeholders. */
export type Translator = ((key: MessageKey, vars?: Vars) => string) & { locale: Locale };

const catalogs: Record<Locale, Catalog> = { 'zh-CN': zhCN, en };

/** Replace `{name}` placeholders; unknown names stay visible so a missing variable is noticed. */
export function fillTemplate(template: string, vars: Vars = {}): string {
  return template.replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = vars[name];
    return v === undefined || v === null ? m : String(v);
  });
}

/** The translator for one locale; all user-facing chat text goes through it. */
export function createTranslator(locale: Locale): Translator {
  const catalog = catalogs[locale];
  const t = ((key: MessageKey, vars?: Vars) => fillTemplate(catalog[key], vars)) as Translator;
  t.locale = locale;
  return t;
}

/** True when the catalog has a message under this key (command help is looked up by convention). */
export function hasMessage(key: string): key is MessageKey {
  return Object.hasOwn(zhCN, key);
}

export { catalogs };
