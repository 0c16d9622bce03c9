/**
 * Which content each of a site's slots shows one visitor. GET /focus answers it beside the
 * focus items (routes/focus/focus.ts), so the page view's one follow-up request brings both;
 * w.js asks GET /focus only when POST /t says the site has focus items or slots.
 *
 *   "slots": [                        // absent when the site has no active slot
 *     { "id": 3, "name": "hero", "variant": "customers", "content": [Node, ...] },
 *     { "id": 4, "name": "promo", "variant": null }    // no rule holds: the page keeps its own content
 *   ]
 *   Node = "text" | [tag, { attribute: value } | 0, ...Node[]]   (core/slots/content.ts)
 *
 * Every active slot of the site is listed (the server does not know which slots a page
 * carries); the widget fills the `[data-leadline-slot="NAME"]` elements it finds and reports
 * a view per slot shown and a click inside one (POST /t "sv" / "sc", with p: { slot_id, slot,
 * variant }, variant "default" for the page's own content).
 *
 * Rules are tried in order and the first that holds wins. identity "anonymous"/"known" tells
 * proven browsers (signed identify, signed email click, API link) from the rest; stage and
 * filter rules hold only for a proven browser's contact. Nothing about the contact is in the
 * answer beyond the content the marketer chose for it.
 */
import type { InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { compileFilter } from '../segments/compile';
import { compileEnv } from '../segments/membership';
import { findVisitor, provenContact } from '../tracking/visitors';
import { mayHaveTokens } from '../personalise/tokens';
import { who } from '../personalise/who';
import { deliver, toTree, variantHtml, type Node } from './content';
import type { Definition, SlotWhen } from './schema';

export interface PublicSlot {
  id: number;
  name: string;
  variant: string | null;
  content?: Node[];
}

interface LiveRule {
  when: SlotWhen;
  variant: string;
  /** A filter rule's index among the slot set's filter columns; -1 when its filter no longer compiles (it never holds). */
  col?: number;
}

interface LiveSlot {
  id: number;
  name: string;
  rules: LiveRule[];
  /** The variants rules name, sanitised and as trees, ready to send. */
  variants: Map<string, { html: string; tree: Node[] }>;
}

interface LiveSet {
  slots: LiveSlot[];
  /** The filters of filter rules, compiled for one contact (`c`), in column order. */
  filters: { sql: string; args: InValue[] }[];
  /** Whether any rule needs the contact's stage. */
  stages: boolean;
}

// Active slots per site, prepared (sanitised, parsed, filters compiled) and briefly cached:
// GET /focus runs on page views. Writes clear this process's cache; other processes (Workers
// isolates) see edits within CACHE_MS. Keyed by ctx because each ctx is its own database.
const CACHE_MS = 10_000;
export const MAX_LIVE_SLOTS = 100;
const liveCache = new WeakMap<Ctx, Map<number, { set: LiveSet; until: number }>>();
// Bumped by every write, so a look-up that started before it does not cache what it read.
let version = 0;

export function clearLiveSlots(ctx: Ctx): void {
  version++;
  liveCache.delete(ctx);
}

async function prepare(ctx: Ctx, rows: { id: number; name: string; def: Definition }[]): Promise<LiveSet> {
  const set: LiveSet = { slots: [], filters: [], stages: false };
  const env = rows.some((r) => r.def.rules.some((x) => 'filter' in x.when)) ? await compileEnv(ctx) : null;
  for (const { id, name, def } of rows) {
    const used = new Set(def.rules.map((r) => r.variant));
    const variants = new Map<string, { html: string; tree: Node[] }>();
    for (const v of def.variants) {
      if (!used.has(v.key)) continue;
      const html = variantHtml(v);
      variants.set(v.key, { html, tree: toTree(html) });
    }
    const rules = def.rules.map((r): LiveRule => {
      if ('stage_id' in r.when) set.stages = true;
      if (!('filter' in r.when)) return { when: r.when, variant: r.variant };
      try {
        set.filters.push(compileFilter(r.when.filter, env!).scoped);
        return { when: r.when, variant: r.variant, col: set.filters.length - 1 };
      } catch (e) {
        // A field or stage the filter names was deleted since: the rule cannot hold.
        ctx.log.warn('slot rule filter does not compile', { slot_id: id, error: e instanceof Error ? e.message : String(e) });
        return { when: r.when, variant: r.variant, col: -1 };
      }
    });
    set.slots.push({ id, name, rules, variants });
  }
  return set;
}

async function liveSet(ctx: Ctx, siteId: number): Promise<LiveSet> {
  const now = ctx.now();
  let perSite = liveCache.get(ctx);
  const hit = perSite?.get(siteId);
  if (hit && hit.until > now) return hit.set;
  const seen = version;
  const res = await ctx.client.execute({
    sql: 'SELECT id, name, definition FROM slots WHERE site_id = ? AND active = 1 ORDER BY id LIMIT ?',
    args: [siteId, MAX_LIVE_SLOTS],
  });
  const set = await prepare(
    ctx,
    res.rows.map((r) => ({ id: Number(r.id), name: String(r.name), def: JSON.parse(String(r.definition)) as Definition })),
  );
  if (seen === version) {
    if (!perSite) liveCache.set(ctx, (perSite = new Map()));
    if (perSite.size > 10_000) perSite.clear();
    perSite.set(siteId, { set, until: now + CACHE_MS });
  }
  return set;
}

interface ContactFacts {
  stage: number | null;
  /** Per filter column: the contact matches it. */
  matches: boolean[];
}

/** The proven contact's stage and filter matches, in one statement (none when no rule needs them). */
async function contactFacts(ctx: Ctx, contactId: number, set: LiveSet): Promise<ContactFacts> {
  if (!set.stages && !set.filters.length) return { stage: null, matches: [] };
  const cols = set.filters.map((f, i) => `(${f.sql}) AS m${i}`);
  try {
    const res = await ctx.client.execute({
      sql: `SELECT c.stage_id AS stage${cols.map((c) => `, ${c}`).join('')} FROM contacts c WHERE c.id = ?`,
      args: [...set.filters.flatMap((f) => f.args), contactId],
    });
    const row = res.rows[0];
    if (!row) return { stage: null, matches: [] };
    return { stage: row.stage === null ? null : Number(row.stage), matches: set.filters.map((_, i) => Number(row[`m${i}`]) === 1) };
  } catch (e) {
    // A filter the database cannot run (e.g. a regex it rejects) fails the statement: the stage still counts.
    ctx.log.warn('slot rule filters could not be evaluated', { error: e instanceof Error ? e.message : String(e) });
    const res = await ctx.client.execute({ sql: 'SELECT stage_id FROM contacts WHERE id = ?', args: [contactId] });
    const stage = res.rows[0]?.stage_id;
    return { stage: stage === null || stage === undefined ? null : Number(stage), matches: [] };
  }
}

function holds(rule: LiveRule, known: boolean, facts: ContactFacts | null): boolean {
  const w = rule.when;
  if ('identity' in w) return w.identity === 'any' || (w.identity === 'known') === known;
  // Stage and filter rules are about a contact, which only a proven browser is shown.
  if (!facts) return false;
  if ('stage_id' in w) return facts.stage === w.stage_id;
  return rule.col !== undefined && rule.col >= 0 && facts.matches[rule.col] === true;
}

/** The site's active slots as one visitor sees them, or null when the site has none. */
export async function slotsForVisitor({ ctx, input }: { ctx: Ctx; input: { siteId: number; uid: string | null } }): Promise<PublicSlot[] | null> {
  const set = await liveSet(ctx, input.siteId);
  if (!set.slots.length) return null;
  // Known means proven: a browser that only typed an email into a form is treated as anonymous.
  const contactId = provenContact(await findVisitor(ctx, input.siteId, input.uid));
  const facts = contactId === null ? null : await contactFacts(ctx, contactId, set);
  const chosen = set.slots.map((s) => ({ s, rule: s.rules.find((r) => holds(r, contactId !== null, facts)) }));
  // Personalisation tokens in a chosen variant: who the browser is (one more read, only then).
  const tokens = chosen.some(({ s, rule }) => rule && mayHaveTokens(s.variants.get(rule.variant)!.html));
  const viewer = tokens ? await who(ctx, { siteId: input.siteId, uid: input.uid }) : null;
  return chosen.map(({ s, rule }) => {
    if (!rule) return { id: s.id, name: s.name, variant: null };
    return { id: s.id, name: s.name, variant: rule.variant, content: deliver(ctx, s.variants.get(rule.variant)!, viewer) };
  });
}
