import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

export const LANGS = ['en', 'ko'] as const;
export type Lang = (typeof LANGS)[number];

export const LANG_KEY = 'igemoji.lang';
/** The same choice as a cookie, so that pages the server writes (a shared link's) follow it too. */
export const LANG_COOKIE = 'igemoji_lang';

export function isLang(v: unknown): v is Lang {
  return typeof v === 'string' && (LANGS as readonly string[]).includes(v);
}

/** The remembered choice, else the browser's first language we speak, else English. */
export function detectLang(
  stored: string | null,
  languages: readonly string[] = globalThis.navigator?.languages ?? [],
): Lang {
  if (isLang(stored)) return stored;
  for (const l of languages) {
    const base = l.toLowerCase().split('-')[0];
    if (isLang(base)) return base;
  }
  return 'en';
}

export function storedLang(): string | null {
  try {
    return globalThis.localStorage?.getItem(LANG_KEY) ?? null;
  } catch {
    return null;
  }
}

export function rememberLang(lang: Lang): void {
  try {
    globalThis.localStorage?.setItem(LANG_KEY, lang);
  } catch {
    // storage disabled: not remembered, still applied
  }
  try {
    const secure = globalThis.location?.protocol === 'https:' ? '; Secure' : '';
    globalThis.document.cookie = `${LANG_COOKIE}=${lang}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
  } catch {
    // no document (tests) or cookies disabled: the server goes by Accept-Language
  }
}

const langSlice = createSlice({
  name: 'lang',
  initialState: { lang: 'en' as Lang },
  reducers: {
    langChanged(state, action: PayloadAction<Lang>) {
      state.lang = action.payload;
    },
  },
});

export const { langChanged } = langSlice.actions;
export default langSlice.reducer;
export const selectLang = (s: { lang: { lang: Lang } }) => s.lang.lang;
