// A small seeded generator (mulberry32): the whole run is a function of its seed,
// so a failure printed with its seed replays with HOSTILE_SEED=<seed>.

export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) if ((r -= w) < 0) return v;
    return items[items.length - 1]![1];
  }
  /** A fresh generator for a sub-stream, so adding draws in one place does not shift another. */
  fork(): Rng {
    return new Rng((this.next() * 4294967296) >>> 0);
  }
}

export function seedFromEnv(): number {
  const raw = process.env.HOSTILE_SEED;
  if (raw && /^\d+$/.test(raw)) return Number(raw) >>> 0;
  // HOSTILE_SEED=random explores; without it every run (CI included) walks the same requests.
  if (raw === 'random') return (Date.now() ^ (Math.random() * 4294967296)) >>> 0;
  return 20261125;
}
