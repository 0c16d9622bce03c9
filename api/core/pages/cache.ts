import { LRUCache } from 'lru-cache';
import type { Ctx } from '../context';
import type { TokenRef } from '../personalise/tokens';
import type { PageTestArms } from './arms';

// Rendered pages, per process: /p/{slug} answers from memory. An entry is keyed by the server's
// address, the page set's host and the slug, and remembers the version it was rendered from (the
// page's version and its forms' updated_at). Every page write in this process clears the cache
// (pagesChanged), so a publish, unpublish or edit shows on the next request; other processes
// (Workers isolates, a second Node) check the version at most FRESH_MS after their last check
// and render again only when it changed. Keyed by ctx because each ctx is its own database.

/** How long an entry answers without asking the database whether the page changed. */
export const FRESH_MS = 2_000;

export type Slot = { nonce: true } | { sid: true } | { stamp: number } | { token: TokenRef };
/** A page's HTML with the holes every response fills in (CSP nonce, form submission ids, form stamps, personalisation tokens). */
export type Template = (string | Slot)[];

export type Lookup =
  // personal: the template (or a variant's) has token holes, so responses differ by browser
  // (core/personalise/page.ts). test: the page's A/B test, each variant rendered (core/pages/arms.ts);
  // template is the page outside it.
  | { kind: 'page'; version: string; template: Template; formIds: number[]; siteId: number; personal?: boolean; test?: PageTestArms | null }
  | { kind: 'redirect'; location: string }
  | { kind: 'missing' };

export interface Entry {
  checkedAt: number;
  lookup: Lookup;
}

interface PerCtx {
  entries: LRUCache<string, Entry>;
  hosts: { set: Set<string>; checkedAt: number } | null;
  /** Bumped by every write, so a render that started before it does not store what it read. */
  generation: number;
}

const caches = new WeakMap<Ctx, PerCtx>();

export function cacheOf(ctx: Ctx): PerCtx {
  let c = caches.get(ctx);
  if (!c) caches.set(ctx, (c = { entries: new LRUCache({ max: 2_000 }), hosts: null, generation: 0 }));
  return c;
}

export const entryKey = (base: string, host: string, slug: string) => `${base}\n${host}\n${slug}`;

/** Every page write calls this: nothing rendered before it is served again. */
export function pagesChanged(ctx: Ctx): void {
  const c = caches.get(ctx);
  if (!c) return;
  c.entries.clear();
  c.hosts = null;
  c.generation++;
}
