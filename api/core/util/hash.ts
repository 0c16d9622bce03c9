/**
 * A 32-bit hash of a string: FNV-1a, then murmur3's finaliser so that nearby ids spread evenly.
 * Fast, stable across runtimes and releases: focus item variants and landing page A/B tests bucket
 * visitors with it, so a visitor keeps its variant (changing it would move visitors mid-test).
 * (Campaign splits keep their own plain FNV-1a, core/campaigns/steps.ts, for the same reason.)
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
