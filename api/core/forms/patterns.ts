import type { Ctx } from '../context';
import { compilePattern, type PatternTest } from './values';

/**
 * Form field patterns are checked on the server by the database's REGEXP,
 * which runs in linear time: JavaScript's backtracking engine can spend
 * minutes on a pattern like (a|a)+ and a few dozen characters, and a
 * submission is anyone's to send. (The widget checks the same pattern in the
 * visitor's own browser as the HTML pattern attribute does.)
 *
 * Checks are synchronous, so they run twice: once to learn which
 * (pattern, value) pairs they ask about, then with the database's answers.
 */
export async function patternTestFor(ctx: Ctx, check: (test: PatternTest) => void): Promise<PatternTest> {
  const pairs = new Map<string, [string, string]>();
  check((pattern, value) => {
    pairs.set(JSON.stringify([pattern, value]), [pattern, value]);
    return true;
  });
  const answers = await matchAll(ctx, [...pairs.values()]);
  // A pattern the database cannot run was stored before patterns were checked
  // for it on save (see unsupportedPatterns): JavaScript decides those.
  return (pattern, value) => answers.get(JSON.stringify([pattern, value])) ?? compilePattern(pattern).test(value);
}

/** The patterns of `patterns` the database cannot compile (refused on save). */
export async function unsupportedPatterns(ctx: Ctx, patterns: string[]): Promise<Set<string>> {
  const bad = new Set<string>();
  for (const p of new Set(patterns)) {
    try {
      await ctx.client.execute({ sql: "SELECT '' REGEXP ?", args: [full(p)] });
    } catch {
      bad.add(p);
    }
  }
  return bad;
}

// A pattern is a full match, as the HTML pattern attribute is. (The database's engine has plain
// groups only, no (?:…), so the wrapping group captures.)
const full = (pattern: string) => `^(${pattern})$`;

async function matchAll(ctx: Ctx, pairs: [string, string][]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  if (!pairs.length) return out;
  const one = async (list: [string, string][]) => {
    const r = await ctx.client.execute({
      sql: `SELECT ${list.map((_, i) => `(? REGEXP ?) AS m${i}`).join(', ')}`,
      args: list.flatMap(([p, v]) => [v, full(p)]),
    });
    list.forEach(([p, v], i) => out.set(JSON.stringify([p, v]), Number(r.rows[0]![`m${i}`]) === 1));
  };
  try {
    await one(pairs);
  } catch {
    // One pattern the database cannot run spoils the statement: ask pair by pair.
    for (const pair of pairs) await one([pair]).catch(() => undefined);
  }
  return out;
}
