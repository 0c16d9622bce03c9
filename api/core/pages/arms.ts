import type { Ctx } from '../context';
import { isBot } from '../tracking/enrich';
import type { SiteRecord } from '../tracking/sites';
import { randomToken } from '../util/crypto';
import type { Lookup, Template } from './cache';
import type { PageView } from './pages';
import type { Section } from './schema';
import { hash32 } from '../util/hash';
import { CONTROL } from './variants-schema';

// Which variant of a page in an A/B test a request gets. Each variant (the original included) is
// rendered once into the page's cache entry, its tag and buttons marked with the test and variant
// (core/pages/render.ts). A visitor is the tracker's id (the ll_vid cookie the tag keeps; a new
// one is set when there is none): a hash of the page, the test and that id, against the weights,
// so the same visitor gets the same variant on every request and every server. Changing the
// weights or the variants moves some visitors; the stats keep each visitor with the variant of its
// first view. Outside the test, served the page as it is without the marks: bots (as /t counts
// them), and browsers the site may not give an id to (Do Not Track or Global Privacy Control on a
// site that respects them; no id yet on a site that asks for consent first).

export interface Arm {
  variantId: number;
  /** Percent of visitors. */
  weight: number;
  template: Template;
  formIds: number[];
  /** Its template has personalisation token holes (core/personalise/page.ts). */
  personal?: boolean;
}

export interface PageTestArms {
  pageId: number;
  testId: number;
  /** The variants with traffic in id order, then the original (which takes what they leave). */
  arms: Arm[];
  settings: Pick<SiteRecord['settings'], 'allow_automation' | 'consent_required' | 'respect_dnt'>;
}

type Render = (page: PageView, ab: { pageId: number; testId: number; variantId: number }) => Promise<{ template: Template; formIds: number[]; personal: boolean } | null>;

/** The rendered variants of a page's running test, or null when none runs. */
export async function testArms(ctx: Ctx, page: PageView, site: SiteRecord, render: Render): Promise<PageTestArms | null> {
  const testId = page.ab_test.test_id;
  if (testId === null) return null;
  const res = await ctx.client.execute({ sql: 'SELECT id, title, sections, weight FROM page_variants WHERE test_id = ? ORDER BY id', args: [testId] });
  if (!res.rows.length) return null;
  const arms: Arm[] = [];
  let total = 0;
  const mark = (variantId: number) => ({ pageId: page.id, testId, variantId });
  for (const r of res.rows) {
    const weight = Number(r.weight);
    total += weight;
    if (weight <= 0) continue;
    const fresh = await render({ ...page, title: String(r.title), sections: JSON.parse(String(r.sections)) as Section[] }, mark(Number(r.id)));
    if (fresh) arms.push({ variantId: Number(r.id), weight, template: fresh.template, formIds: fresh.formIds, personal: fresh.personal });
  }
  const control = await render(page, mark(CONTROL));
  if (!control) return null;
  arms.push({ variantId: CONTROL, weight: Math.max(0, 100 - total), template: control.template, formIds: control.formIds, personal: control.personal });
  const { allow_automation, consent_required, respect_dnt } = site.settings;
  return { pageId: page.id, testId, arms, settings: { allow_automation, consent_required, respect_dnt } };
}


/** The visitor's bucket in [0, 10000): hundredths of a percent. */
export const bucketOf = (pageId: number, testId: number, uid: string) => Math.floor((hash32(`${pageId}:${testId}:${uid}`) / 2 ** 32) * 10_000);

/** The arm a visitor gets: the first whose cumulative weight covers its bucket, else the original. */
export function pickArm(test: Pick<PageTestArms, 'pageId' | 'testId' | 'arms'>, uid: string): Arm {
  const bucket = bucketOf(test.pageId, test.testId, uid);
  let upTo = 0;
  for (const arm of test.arms) {
    if (arm.variantId === CONTROL) continue;
    upTo += arm.weight * 100;
    if (bucket < upTo) return arm;
  }
  return test.arms.find((a) => a.variantId === CONTROL)!;
}

const VISITOR_COOKIE = /(?:^|;\s*)ll_vid=([A-Za-z0-9_-]{16,64})(?:;|$)/;
const YEAR_S = 31_536_000;

export interface ServeRequest {
  cookie: string | null;
  userAgent: string | null;
  /** DNT: 1 or Sec-GPC: 1. */
  doNotTrack: boolean;
  secure: boolean;
}

/** The page a request gets (its variant's template when in the test) and the visitor cookie to set, if any. */
export function serveArm(page: Extract<Lookup, { kind: 'page' }>, req: ServeRequest): { page: Extract<Lookup, { kind: 'page' }>; setCookie: string | null; varies: boolean } {
  const test = page.test;
  if (!test) return { page, setCookie: null, varies: false };
  const s = test.settings;
  const bot = s.allow_automation ? !req.userAgent : isBot(req.userAgent);
  let uid = req.cookie ? (VISITOR_COOKIE.exec(req.cookie)?.[1] ?? null) : null;
  let setCookie: string | null = null;
  if (bot || (s.respect_dnt && req.doNotTrack) || (!uid && s.consent_required)) return { page, setCookie: null, varies: true };
  if (!uid) {
    // The tag reads this cookie and keeps the id (widgets/tracker.ts), so the page view it sends is this visitor's.
    uid = randomToken(22);
    setCookie = `ll_vid=${uid}; Path=/; Max-Age=${YEAR_S}; SameSite=Lax${req.secure ? '; Secure' : ''}`;
  }
  const arm = pickArm(test, uid);
  return { page: { ...page, template: arm.template, formIds: arm.formIds, personal: arm.personal }, setCookie, varies: true };
}
