import type { UrlRule, Variant } from './schema';
import { hash32 } from '../util/hash';

/**
 * What URL rules are compared with. A rule value starting with "/" is about
 * the path (with its query string); any other value is about the whole URL.
 * The fragment never counts. equals / contains / starts_with ignore case;
 * regex patterns are tested (unanchored, as written) against both the path
 * and the whole URL and match when either does.
 */
export interface UrlSubjects {
  full: string;
  path: string;
}

export function urlSubjects(url: string): UrlSubjects | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  u.hash = '';
  return { full: u.href, path: u.pathname + u.search };
}

/** A text rule's verdict; regex rules are decided by the database (see public.ts). */
export function matchTextRule(rule: UrlRule, s: UrlSubjects): boolean {
  const subject = (rule.value.startsWith('/') ? s.path : s.full).toLowerCase();
  const value = rule.value.toLowerCase();
  switch (rule.op) {
    case 'equals':
      // "https://x.com" and "https://x.com/" are the same page.
      return subject === value || (!rule.value.startsWith('/') && subject === value + '/');
    case 'contains':
      return subject.includes(value);
    case 'starts_with':
      return subject.startsWith(value);
    default:
      return false;
  }
}

/**
 * The variant a visitor sees: a bucket in 0–9999 from the visitor id and the
 * item id, laid over the cumulative weights. The same visitor always lands in
 * the same variant of an item while the weights stay the same; without a
 * visitor id (consent not given yet) the pick is random.
 */
export function chooseVariant(variants: Pick<Variant, 'key' | 'weight'>[], itemId: number, visitorUid: string | null): string {
  if (!variants.length) return 'a';
  const bucket = visitorUid === null ? crypto.getRandomValues(new Uint32Array(1))[0]! % 10_000 : hash32(`${visitorUid}:${itemId}`) % 10_000;
  let cumulative = 0;
  for (const v of variants) {
    cumulative += v.weight * 100;
    if (bucket < cumulative) return v.key;
  }
  return variants.find((v) => v.weight > 0)?.key ?? variants[0]!.key;
}
