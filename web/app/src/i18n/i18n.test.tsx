import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { AppRoutes } from '../App';
import { LanguageSwitch } from '../components/LanguageSwitch';
import { makeStore } from '../store';
import { json, mockFetch, renderApp } from '../../test/utils';
import en from './en';
import { translate } from './index';
import ko from './ko';
import { detectLang, LANG_COOKIE, LANG_KEY } from './lang';

describe('dictionaries', () => {
  it('have the same keys and no empty message', () => {
    expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of [...Object.entries(en), ...Object.entries(ko)]) expect(text, key).not.toBe('');
  });

  it('use the same placeholders in both languages', () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) expect(names(ko[key]), key).toEqual(names(en[key]));
  });

  it('fill placeholders', () => {
    expect(translate('en', 'template.by', { alias: 'bob' })).toBe('by bob');
    expect(translate('ko', 'me.heading', { alias: '민지' })).toBe('민지님의 페이지');
    expect(translate('en', 'template.by')).toBe('by {alias}');
  });
});

describe('detectLang', () => {
  it('prefers the remembered choice, then the browser, then English', () => {
    expect(detectLang('en', ['ko-KR'])).toBe('en');
    expect(detectLang(null, ['ko-KR', 'en-US'])).toBe('ko');
    expect(detectLang(null, ['fr-FR', 'ko'])).toBe('ko');
    expect(detectLang('xx', ['fr-FR'])).toBe('en');
  });

  it('is what a new store starts with, and is written to the cookie as well', () => {
    localStorage.setItem(LANG_KEY, 'ko');
    document.cookie = `${LANG_COOKIE}=; Max-Age=0; Path=/`;
    expect(makeStore().getState().lang.lang).toBe('ko');
    expect(document.cookie).toContain(`${LANG_COOKIE}=ko`); // a choice made before the cookie existed
  });
});

describe('the language switch', () => {
  it('switches the whole page, sets <html lang> and remembers the choice', async () => {
    mockFetch((url) =>
      url.pathname === '/api/v1/faces/ranking' ? json({ items: [], window_days: 7 }) : json({ items: [], page: 1, page_size: 12, total: 0 }),
    );
    renderApp(<AppRoutes />);
    const user = userEvent.setup();
    expect(await screen.findByText('No templates yet.')).toBeInTheDocument();
    expect(document.documentElement.lang).toBe('en');

    const group = screen.getByRole('group', { name: 'Language' });
    await user.click(within(group).getByRole('button', { name: '한국어' }));

    expect(screen.getByText('아직 템플릿이 없습니다.')).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 2, name: '랭킹' })).toBeInTheDocument();
    expect(within(screen.getByRole('group', { name: '언어' })).getByRole('button', { name: '한국어' })).toHaveAttribute('aria-pressed', 'true');
    expect(document.documentElement.lang).toBe('ko');
    expect(localStorage.getItem(LANG_KEY)).toBe('ko');
    // The server reads the cookie for the pages it writes (a shared link's).
    expect(document.cookie).toContain(`${LANG_COOKIE}=ko`);
    expect(document.title).toBe('갤러리 · IGE MOJI');

    await user.click(screen.getByRole('button', { name: 'English' }));
    expect(screen.getByText('No templates yet.')).toBeInTheDocument();
    expect(document.documentElement.lang).toBe('en');
    expect(document.cookie).toContain(`${LANG_COOKIE}=en`);
  });
});

describe('LanguageSwitch', () => {
  it('is reached with Tab, each language its own stop', async () => {
    renderApp(<LanguageSwitch />);
    const user = userEvent.setup();
    await user.tab();
    expect(screen.getByRole('button', { name: 'English' })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole('button', { name: '한국어' })).toHaveFocus();
  });
});
