import { describe, expect, it } from 'vitest';
import { isAlias } from './validation';

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
  ])('%s → %s', (alias, want) => {
    expect(isAlias(alias)).toBe(want);
  });
});
