import { useCallback, useMemo } from 'react';
import { useAppDispatch, useAppSelector } from '../store/hooks';
import en, { type MessageKey, type Messages } from './en';
import ko from './ko';
import { langChanged, selectLang, type Lang } from './lang';

export type { MessageKey, Messages } from './en';
export { LANGS, type Lang } from './lang';

const dictionaries: Record<Lang, Messages> = { en, ko };

export type Vars = Record<string, string | number>;

/** A message kept as its key and values, translated when shown: a language switch then reaches it. */
export interface KeyedMessage {
  key: MessageKey;
  vars?: Vars;
}

/** The message for key in lang, with {name} placeholders filled from vars. */
export function translate(lang: Lang, key: MessageKey, vars?: Vars): string {
  const text = dictionaries[lang][key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** Keys with a plural form come in pairs, KEY_one and KEY_other. */
type PluralBase = MessageKey extends infer K ? (K extends `${infer B}_one` ? B : never) : never;

export interface I18n {
  lang: Lang;
  t: (key: MessageKey, vars?: Vars) => string;
  /** The plural form for count, with {count} filled. */
  tn: (base: PluralBase, count: number, vars?: Vars) => string;
  formatDate: (iso: string) => string;
  /** Date and time of day, where the date alone would not tell items apart. */
  formatDateTime: (iso: string) => string;
  formatPercent: (fraction: number) => string;
  setLang: (lang: Lang) => void;
}

export function useI18n(): I18n {
  const lang = useAppSelector(selectLang);
  const dispatch = useAppDispatch();
  const t = useCallback((key: MessageKey, vars?: Vars) => translate(lang, key, vars), [lang]);
  const setLang = useCallback((l: Lang) => dispatch(langChanged(l)), [dispatch]);
  return useMemo(() => {
    const plural = new Intl.PluralRules(lang);
    const date = new Intl.DateTimeFormat(lang, { dateStyle: 'medium' });
    const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' });
    const pct = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 });
    return {
      lang,
      t,
      tn: (base, count, vars) => {
        const form = plural.select(count) === 'one' ? 'one' : 'other';
        return translate(lang, `${base}_${form}` as MessageKey, { count, ...vars });
      },
      formatDate: (iso) => {
        const d = new Date(iso);
        return Number.isNaN(d.getTime()) ? '' : date.format(d);
      },
      formatDateTime: (iso) => {
        const d = new Date(iso);
        return Number.isNaN(d.getTime()) ? '' : dateTime.format(d);
      },
      formatPercent: (f) => pct.format(f),
      setLang,
    };
  }, [lang, t, setLang]);
}
