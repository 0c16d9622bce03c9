// Hostile values and a JSON writer that can say what JSON.stringify cannot
// (1e999, raw nesting thousands deep, duplicate and prototype-named keys).
import type { Rng } from './prng';

/** JSON text spliced in as is. */
export class Raw {
  constructor(readonly text: string) {}
}
/** An object written with its entries in order, duplicates and "__proto__" kept as own keys. */
export class Entries {
  constructor(readonly entries: [string, unknown][]) {}
}

export const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'prototype', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'then'];

// Built once: the same big strings serve every request that wants one.
const cache = new Map<string, string>();
export const big = (n: number, ch = 'x') => {
  const k = `${ch}:${n}`;
  let s = cache.get(k);
  if (s === undefined) cache.set(k, (s = ch.repeat(n)));
  return s;
};

export const deepArray = (n: number) => new Raw(big(n, '[') + big(n, ']'));
export const deepObject = (n: number) => new Raw(big(n, '{"a":').concat('1', big(n, '}')));
/** Opened and never closed: deep and truncated at once. */
export const deepOpen = (n: number) => new Raw(big(n, '[{"x":'));

export function hostileString(r: Rng): string {
  return r.weighted<() => string>([
    [3, () => r.pick(PROTO_KEYS)],
    [3, () => `a\u0000b`],
    [2, () => '\u0000'],
    [2, () => `x\ud800y`],
    [2, () => '\udc00'],
    [1, () => '\ud83d'],
    [1, () => `\ud83d\ude00 ok`],
    [2, () => `c\u0007\u001b[31m\u007f`],
    [1, () => 'line\r\nInjected: header'],
    [1, () => '\u202e\ufeff\u200b'],
    [1, () => '\ufffd'],
    [1, () => ''],
    [1, () => '   '],
    [1, () => "' OR 1=1 --"],
    [1, () => '"; DROP TABLE contacts; --'],
    [1, () => '<script>alert(1)</script>'],
    [1, () => '{{constructor.constructor("return process")()}}'],
    [1, () => '${7*7}'],
    [1, () => '../../../../etc/passwd'],
    [1, () => 'javascript:alert(1)'],
    [1, () => 'http://169.254.169.254/latest/meta-data/'],
    [1, () => 'http://127.0.0.1:1/'],
    [1, () => 'file:///etc/passwd'],
    [1, () => 'https://shop.example.com/' + big(3000, 'p')],
    [1, () => '%00%ED%A0%80'],
    // Patterns for the fields that take one: catastrophic in a backtracking engine, or not a regex at all.
    [1, () => r.pick(['(a|a)+$', '(a+)+$', '^(a|aa)*b', '(?=a)a', '(?<n>a)\\k<n>', '[', '\\', '*', '(', 'a{99999}'])],
    [1, () => '1e999'],
    [1, () => 'NaN'],
    [1, () => 'null'],
    [1, () => '2026-02-30'],
    [1, () => '-0'],
    [1, () => 'ADA@EXAMPLE.COM '],
    [1, () => `a@${big(300, 'b')}.com`],
    [1, () => `ada\u0000evil@example.com`],
    [1, () => `ada\ud800@example.com`],
    [1, () => 'e\u0301\u0301\u0301\u0301'],
    [2, () => big(r.pick([65, 101, 256, 1001, 5000, 10_001, 100_000]))],
    [1, () => big(r.pick([50_000, 300_000]), '\u0000')],
    [1, () => big(20_000, '\ud800')],
  ])();
}

export function hostileNumber(r: Rng): unknown {
  return r.pick<unknown>([
    0, -1, 1.5, -0.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE, 1e21,
    new Raw('1e999'), new Raw('-1e999'), new Raw('1e-999'), new Raw('0.' + '0'.repeat(400) + '1'), new Raw('9'.repeat(400)),
    new Raw('-0'), new Raw('1E+2'),
  ]);
}

/** Any value of the wrong kind, some of them huge or deep. */
export function hostileValue(r: Rng, depth = 0): unknown {
  return r.weighted<() => unknown>([
    [5, () => hostileString(r)],
    [3, () => hostileNumber(r)],
    [2, () => r.pick([null, true, false])],
    [1, () => []],
    [1, () => ({})],
    [1, () => [hostileString(r)]],
    [1, () => new Entries(PROTO_KEYS.slice(0, 1 + r.int(PROTO_KEYS.length)).map((k) => [k, depth < 2 ? hostileValue(r, depth + 1) : 1]))],
    [1, () => new Entries([['__proto__', { admin: true }]])],
    [1, () => new Entries([['constructor', { prototype: { polluted: true } }]])],
    [1, () => Array.from({ length: r.pick([1001, 10_000, 100_000]) }, (_, i) => (i % 2 ? 'x' : 1))],
    [1, () => new Raw(`[${big(r.pick([2000, 20_000]), '{},').slice(0, -1)}]`)],
    [1, () => r.pick([deepArray(65), deepArray(r.pick([1000, 5000, 50_000])), deepObject(r.pick([100, 3000])), new Raw(big(200_000, '[') )])],
    [1, () => (depth < 2 ? { nested: hostileValue(r, depth + 1), [hostileString(r).slice(0, 100)]: hostileValue(r, depth + 1) } : 'x')],
  ])();
}

/** JSON text for a value built from plain data, Raw and Entries; iterative over its own nesting so nothing here recurses deeply. */
export function toJson(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Entries) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  if (Array.isArray(v)) {
    // Huge plain arrays of scalars: one stringify.
    if (v.length > 100 && v.every((x) => x === null || typeof x !== 'object')) return JSON.stringify(v);
    return `[${v.map(toJson).join(',')}]`;
  }
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  if (typeof v === 'number' && !Number.isFinite(v)) return '1e999';
  return JSON.stringify(v) ?? 'null';
}

/** Ways to break JSON text that was good. */
export function breakJson(r: Rng, text: string): string | Uint8Array {
  return r.weighted<() => string | Uint8Array>([
    [3, () => text.slice(0, Math.max(0, r.int(text.length)))],
    [1, () => text + '}'],
    [1, () => text + text],
    [1, () => `\ufeff${text}`],
    [1, () => text.replace(/"/g, "'")],
    [1, () => text.replace(/:/, '::')],
    [1, () => `${text.slice(0, -1)},}`],
    [1, () => 'nul'],
    [1, () => 'true'],
    [1, () => '"just a string"'],
    [1, () => '[]'],
    [1, () => '0'],
    [1, () => '{"a":1,"a":2,"__proto__":1,"__proto__":2}'],
    [1, () => text.replace(/\}$/, `,"x":"\\ud800\\udc00\\udfff\\u0000"}`)],
    [1, () => text.replace(/\}$/, `,"x":"\\uZZZZ"}`)],
    [1, () => text.replace(/\}$/, ',"x":"' + '\\\\'.repeat(1000) + '"}')],
    // Invalid UTF-8 and a raw lone surrogate encoded as bytes (CESU style).
    [2, () => concatBytes(new TextEncoder().encode(text.slice(0, -1)), Uint8Array.from([0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0xff, 0xc0, 0x80, 0x00, 0x22, 0x7d]))],
    [1, () => Uint8Array.from([0xff, 0xfe, ...new TextEncoder().encode(text)])],
    [1, () => utf16(text)],
  ])();
}

export function utf16(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i * 2] = c & 0xff;
    out[i * 2 + 1] = c >> 8;
  }
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
