// The server's sign-up and upload rules (README, "Rules a client will meet"),
// checked in the browser to answer early. The server stays the judge.

// As the server: at least 8 characters, at most 72 bytes (bcrypt reads no further).
export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_BYTES = 72;
export const NAME_MAX = 40;
export const PHOTO_MAX_BYTES = 25 << 20;
export const TEMPLATE_IMAGE_MAX_BYTES = 2 << 20;
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;

const utf8 = new TextEncoder();

// Characters that show nothing by themselves (zero-width spaces and joiners,
// soft hyphens, variation selectors, Hangul fillers): the server refuses them
// in emails and aliases, where they would make two look the same.
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/** Whether v holds a character that shows nothing: the form says so, since the field looks fine. */
export function hasInvisible(v: string): boolean {
  return INVISIBLE.test(v);
}

export function isEmail(v: string): boolean {
  return v.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/u.test(v) && !INVISIBLE.test(v);
}

/**
 * 2–30 letters or digits of one script (or a mix a language uses), with
 * . _ - allowed inside: the server's rule (server/validate.go cleanAlias),
 * checked on the form the server checks, NFKC-folded.
 */
export function isAlias(v: string): boolean {
  const folded = v.normalize('NFKC');
  const chars = [...folded];
  return (
    chars.length >= 2 &&
    chars.length <= 30 &&
    /^[\p{L}\p{Nd}](?:[\p{L}\p{Nd}\p{Mn}\p{Mc}._-]*[\p{L}\p{Nd}\p{Mn}\p{Mc}])?$/u.test(folded) &&
    !INVISIBLE.test(folded) &&
    !/\p{Mn}{5}/u.test(folded) && // at most 4 nonspacing marks on one letter
    oneWritingSystem(folded)
  );
}

// Look-alike alphabets may not be mixed ("аlice" with a Cyrillic а);
// Latin with Korean, Japanese or Chinese may. Scripts named here are told
// apart; the letters of any other script count as one more.
const SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Armenian', 'Hangul', 'Han', 'Hiragana', 'Katakana', 'Bopomofo', 'Arabic', 'Hebrew', 'Thai', 'Devanagari', 'Georgian', 'Cherokee'];
const SCRIPT_RES = SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, 'u')] as const);
const OTHER_SCRIPT = /[^\p{Script=Common}\p{Script=Inherited}]/u;
const SCRIPT_MIXES = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Hangul'],
  ['Latin', 'Han', 'Bopomofo'],
];

export function oneWritingSystem(v: string): boolean {
  const used = new Set<string>();
  for (const ch of v) {
    const hit = SCRIPT_RES.find(([, re]) => re.test(ch));
    if (hit) used.add(hit[0]);
    else if (OTHER_SCRIPT.test(ch)) used.add('other');
  }
  return used.size <= 1 || SCRIPT_MIXES.some((mix) => [...used].every((s) => mix.includes(s)));
}

export function passwordBytes(v: string): number {
  return utf8.encode(v).length;
}

export function isPassword(v: string): boolean {
  return [...v].length >= PASSWORD_MIN_CHARS && passwordBytes(v) <= PASSWORD_MAX_BYTES;
}

export function isImageType(type: string): boolean {
  return (IMAGE_TYPES as readonly string[]).includes(type);
}

/** Code points in a name at most (the server's column); NAME_MAX counts characters as people do. */
export const NAME_MAX_CODE_POINTS = 200;

/** Characters as people count them: a family emoji or a flag is one. */
export function characterCount(v: string): number {
  if (typeof Intl.Segmenter !== 'function') return [...v].length;
  let n = 0;
  for (const _ of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(v)) n++;
  return n;
}

/** Template names: 1–40 characters, no control or bidi-override characters. */
export function isTemplateName(v: string): boolean {
  const t = v.normalize('NFC').trim();
  return (
    t.length > 0 &&
    characterCount(t) <= NAME_MAX &&
    [...t].length <= NAME_MAX_CODE_POINTS &&
    !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(t)
  );
}

/**
 * Whether the browser can decode f as an image: a text file named .png has
 * an image type but is no image. Where the browser cannot tell (no
 * createImageBitmap), the server judges.
 */
export async function decodes(f: Blob): Promise<boolean> {
  if (typeof globalThis.createImageBitmap !== 'function') return true;
  try {
    (await globalThis.createImageBitmap(f)).close();
    return true;
  } catch {
    return false;
  }
}
