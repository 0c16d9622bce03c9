// The attribution models, pure: a conversion's touches in time order and its value in, each
// touch's credit out. No database here, so the property test can drive it directly.

export const MODELS = ['first_touch', 'last_touch', 'linear', 'position_based'] as const;
export type Model = (typeof MODELS)[number];

/** The key a conversion with no touch in the dimension credits, so credits always add up. */
export const NONE = '(none)';

/**
 * Each touch's weight as an integer numerator over one denominator (exact, so cents can be
 * split without floating error). position_based: one touch takes all, two split 50/50, three or
 * more give 40% to the first and the last and 20% evenly to those between: over 5(n−2), the ends
 * weigh 2(n−2) each and every middle touch 1.
 */
export function weights(n: number, model: Model): { num: number[]; den: number } {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('a conversion has at least one touch');
  const num = new Array<number>(n).fill(0);
  switch (model) {
    case 'first_touch':
      num[0] = 1;
      return { num, den: 1 };
    case 'last_touch':
      num[n - 1] = 1;
      return { num, den: 1 };
    case 'linear':
      return { num: num.fill(1), den: n };
    case 'position_based': {
      if (n <= 2) return { num: num.fill(1), den: n };
      const m = n - 2;
      num.fill(1);
      num[0] = 2 * m;
      num[n - 1] = 2 * m;
      return { num, den: 5 * m };
    }
  }
}

/**
 * Splits `cents` by the weights with the largest-remainder method: each share is the floor of
 * its exact part, and the cents left over go one each to the largest remainders (the earlier
 * touch first on a tie), so the parts are integers that sum exactly to `cents`.
 */
export function splitCents(cents: number, w: { num: number[]; den: number }): number[] {
  if (!Number.isSafeInteger(cents)) throw new RangeError('cents must be a safe integer');
  if (cents < 0) return splitCents(-cents, w).map((c) => -c || 0);
  const { num, den } = w;
  let parts: number[];
  let rems: number[];
  if (Number.isSafeInteger(cents * den)) {
    parts = num.map((k) => Math.floor((cents * k) / den));
    rems = num.map((k) => (cents * k) % den);
  } else {
    const c = BigInt(cents);
    const d = BigInt(den);
    parts = num.map((k) => Number((c * BigInt(k)) / d));
    rems = num.map((k) => Number((c * BigInt(k)) % d));
  }
  let left = cents - parts.reduce((a, b) => a + b, 0);
  if (left > 0) {
    const order = rems.map((r, i) => i).sort((a, b) => rems[b]! - rems[a]! || a - b);
    for (const i of order) {
      if (left === 0) break;
      parts[i]!++;
      left--;
    }
  }
  return parts;
}

/** One touch's credit: a share of the conversion (0..1) and, for revenue, of its cents. */
export interface TouchCredit {
  key: string;
  conversions: number;
  cents: number;
}

/**
 * The credits of one conversion: `keys` are its touches' keys in time order (repeats allowed:
 * each visit is a touch), `cents` its value (null: a conversion without revenue). No touch
 * credits the one virtual touch NONE. Returns one entry per touch, in order.
 */
export function creditConversion(keys: readonly string[], cents: number | null, model: Model): TouchCredit[] {
  const ks = keys.length ? keys : [NONE];
  const w = weights(ks.length, model);
  const money = cents === null ? null : splitCents(cents, w);
  return ks.map((key, i) => ({ key, conversions: w.num[i]! / w.den, cents: money ? money[i]! : 0 }));
}

export interface KeyTotal {
  conversions: number;
  cents: number;
}

/** Adds one conversion's credits into per-key totals (touches of one key add up). */
export function addCredits(into: Map<string, KeyTotal>, credits: readonly TouchCredit[]) {
  for (const c of credits) {
    if (c.conversions === 0 && c.cents === 0) continue;
    const t = into.get(c.key);
    if (t) {
      t.conversions += c.conversions;
      t.cents += c.cents;
    } else into.set(c.key, { conversions: c.conversions, cents: c.cents });
  }
}

/** Credits of many conversions, per key. */
export function attribute(conversions: Iterable<{ keys: readonly string[]; cents: number | null }>, model: Model): Map<string, KeyTotal> {
  const out = new Map<string, KeyTotal>();
  for (const c of conversions) addCredits(out, creditConversion(c.keys, c.cents, model));
  return out;
}
