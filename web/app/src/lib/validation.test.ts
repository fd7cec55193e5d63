import { describe, expect, it } from 'vitest';
import { isAlias, isEmail, isPassword, isTemplateName } from './validation';

describe('isAlias', () => {
  // The same cases as the server's TestCleanAlias, for the scripts rule.
  it.each([
    ['kim', true],
    ['김민수', true],
    ['алиса', true],
    ['김minsu', true],
    ['田中taro', true],
    ['たなか_タナカ', true],
    ['ab12', true],
    ['\u0430lice', false], // Cyrillic а + Latin
    ['p\u0430ypal', false],
    ['\u03bflga', false], // Greek ο + Latin
    ['김\u0430', false],
    ['.ab', false],
    ['a', false],
    ['\ua4eedmin', false], // Lisu ꓮ, a script not named in the rule
    ['ꓮꓱꓡ', true],
    ['admin\u3164', false], // a Hangul filler shows nothing
    ['µa', false], // NFKC: Greek μ + Latin, as the server sees it
    ['नमस्ते', true], // vowel signs after letters
    ['ㅋㅋㅋ', true],
    ['ad\u034fmin', false], // invisible: combining grapheme joiner
    ['admin\ufe0f', false], // variation selector 16
    ['bo\u{E0100}b', false], // variation selector 17
    ['a\u0301\u0301\u0301\u0301\u0301\u0301b', false], // five marks on á
    ['မြို့သား', true], // Burmese: a spacing mark and three others
    ['བསྒྲུབས', true], // Tibetan: stacked consonants
    ['nguye\u0323\u0302n', true],
  ])('%s → %s', (alias, want) => {
    expect(isAlias(alias)).toBe(want);
  });
});

describe('isEmail', () => {
  it.each([
    ['kim@example.com', true],
    ['김@예시.한국', true],
    ['alice\u200b@example.com', false], // zero-width space
    ['alice@exam\u00adple.com', false], // soft hyphen
    ['a@localhost', false],
  ])('%s → %s', (email, want) => {
    expect(isEmail(email)).toBe(want);
  });
});

describe('isTemplateName', () => {
  // The same cases as the server's TestCleanName, for length.
  it.each([
    ['Cats 🐱', true],
    ['👨‍👩‍👧‍👦'.repeat(6), true], // 6 characters, 42 code points
    ['🇰🇷'.repeat(21), true],
    ['가'.repeat(40), true],
    ['가'.repeat(41), false],
    ['👨‍👩‍👧‍👦'.repeat(29), false], // 29 characters, 203 code points
    ['क्ष'.repeat(40), true], // conjuncts: one character each, as the server counts
    ['क्ष'.repeat(41), false],
    ['   ', false],
  ])('%s → %s', (name, want) => {
    expect(isTemplateName(name)).toBe(want);
  });
});

describe('isPassword', () => {
  it('counts characters for the minimum and bytes for the maximum, as the server does', () => {
    for (const [v, want] of [
      ['correct horse', true],
      ['1234567', false],
      ['12345678', true],
      ['가나다라마바사', false], // 7 letters, 21 bytes
      ['가나다라마바사아', true], // 8 letters
      ['가'.repeat(24), true], // 72 bytes
      ['가'.repeat(25), false], // 75 bytes
      ['a'.repeat(73), false],
    ] as const) {
      expect(isPassword(v), v).toBe(want);
    }
  });
});
