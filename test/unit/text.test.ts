import { cleanCode, cleanText, escapeInvalidText, findInvalidText, isValidText } from '../../src/lib/text';

/** The one text rule (src/lib/text.ts): what is invalid, how provider text is cleaned, where a request's bad string is. */
describe('text rule', () => {
  const invalid: [string, string][] = [
    ['U+0000', 'a\u0000b'],
    ['U+0001', '\u0001'],
    ['U+0008 (backspace)', 'code\b'],
    ['U+000B (vertical tab)', 'a\u000Bb'],
    ['U+000C (form feed)', 'a\fb'],
    ['U+001B (escape)', '\u001B[31mred'],
    ['U+001F', 'a\u001F'],
    ['a lone high surrogate', 'a\uD83D'],
    ['a lone low surrogate', '\uDE00b'],
    ['two high surrogates', '\uD83D\uD83D\uDE00'],
    ['a reversed pair', '\uDE00\uD83D'],
  ];
  const valid: [string, string][] = [
    ['plain text', 'Your code is 1234'],
    ['tab, newline and carriage return', 'a\tb\nc\r\nd'],
    ['a surrogate pair (emoji)', 'ok \uD83D\uDE00'],
    ['DEL and C1 controls (not C0)', 'a\u007Fb\u0085c'],
    ['non-Latin scripts', 'Ваш код 1234 · 您的验证码'],
    ['U+FFFD', '\uFFFD'],
    ['the empty string', ''],
  ];

  it.each(invalid)('%s is invalid', (_name, text) => {
    expect(isValidText(text)).toBe(false);
  });

  it.each(valid)('%s is valid and left as it is by cleanText', (_name, text) => {
    expect(isValidText(text)).toBe(true);
    expect(cleanText(text)).toBe(text);
  });

  it.each(invalid)('cleanText makes %s valid', (_name, text) => {
    expect(isValidText(cleanText(text))).toBe(true);
  });

  it('drops controls and marks a lone surrogate with U+FFFD, keeping everything else', () => {
    expect(cleanText('Your code:\u0000 12\u000034')).toBe('Your code: 1234');
    expect(cleanText('\u001B[31mred\u0007')).toBe('[31mred');
    expect(cleanText('half \uD83D of a face, whole \uD83D\uDE00')).toBe('half \uFFFD of a face, whole \uD83D\uDE00');
    expect(cleanText('\uDE00\uD83D')).toBe('\uFFFD\uFFFD');
  });

  it('cleanCode: cleaned and trimmed; empty after cleaning is no code', () => {
    expect(cleanCode('12\u000034')).toBe('1234');
    expect(cleanCode(' 5555 ')).toBe('5555');
    expect(cleanCode(51234)).toBe('51234');
    expect(cleanCode('\u0000')).toBeNull();
    expect(cleanCode(' \u0000\u0001 ')).toBeNull();
    expect(cleanCode('')).toBeNull();
    expect(cleanCode(null)).toBeNull();
    expect(cleanCode(undefined)).toBeNull();
  });

  it('escapeInvalidText writes invalid characters out, leaving valid ones', () => {
    expect(escapeInvalidText('x\u0000y\u001F \uD83D\uDE00 \uD800')).toBe('x\\u0000y\\u001F \uD83D\uDE00 \\uD800');
    expect(isValidText(escapeInvalidText('\u0000\uDFFF'))).toBe(true);
  });

  describe('findInvalidText', () => {
    it('finds nothing in valid values of any shape', () => {
      expect(findInvalidText({ name: 'key', scopes: ['read'], nested: { n: 1, ok: true, none: null } })).toBeNull();
      expect(findInvalidText('fine')).toBeNull();
      expect(findInvalidText(undefined)).toBeNull();
      expect(findInvalidText(42)).toBeNull();
    });

    it('names the path of the invalid string: fields, list items, keys, the value itself', () => {
      expect(findInvalidText({ name: 'a\u0000b' })).toBe('name');
      expect(findInvalidText({ a: { b: ['ok', 'x\u0001'] } })).toBe('a.b.1');
      expect(findInvalidText({ ['k\u0000']: 'v' })).toBe('k\u0000');
      expect(findInvalidText({ outer: { ['\uD800']: 1 } })).toBe('outer.\uD800');
      expect(findInvalidText('\u0000')).toBe('');
      expect(findInvalidText(['\u0000'])).toBe('0');
    });

    it('walks a body nested as deep as 64 kB allows without overflowing the stack', () => {
      const depth = 32_000;
      const deep = JSON.parse(`${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}`);
      const at = findInvalidText(deep);
      expect(at?.split('.')).toHaveLength(depth);
      expect(findInvalidText(JSON.parse(`${'['.repeat(depth)}"ok"${']'.repeat(depth)}`))).toBeNull();
    });
  });
});
