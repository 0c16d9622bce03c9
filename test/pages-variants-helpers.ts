import type { TestApp } from './helpers';
import { mkForm, mkPage } from './pages-helpers';
import { CHROME_UA, makeSite, track } from './tracking-helpers';

// Shared by the landing page A/B tests (test/pages-variants*.test.ts): a published page with a
// form and a tracked button, visits as a browser makes them, and what the page's tag would send.

export const ORIGIN = 'http://localhost';

export async function abSetup(t: TestApp, site: Record<string, unknown> = {}) {
  const s = await makeSite(t, { allowed_origins: [ORIGIN], ...site });
  const form = await mkForm(t);
  const page = await mkPage(
    t,
    {
      site_id: s.id,
      slug: 'offer',
      title: 'Original title',
      sections: [
        { type: 'hero', heading: 'Original heading', cta: { label: 'Get it', url: 'https://shop.example.com/buy', id: 'buy' } },
        { type: 'form', form_id: form.id },
      ],
    },
    true,
  );
  return { site: s, form, page };
}

/** A variant of the page whose hero says `heading`. */
export async function addVariant(t: TestApp, pageId: number, name: string, weight: number, heading = name) {
  const r = await t.json('POST', `/api/v1/pages/${pageId}/variants`, {
    name,
    title: `${name} title`,
    sections: [{ type: 'hero', heading, cta: { label: 'Get it', url: 'https://shop.example.com/buy', id: 'buy' } }],
    weight,
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body as { id: number; name: string; weight: number };
}

export interface Visit {
  status: number;
  html: string;
  /** The visitor id the browser holds after the response (its cookie, or the one just set). */
  vid: string | null;
  setCookie: string | null;
  /** The variant the page's tag names (null: a page outside the test). */
  variantId: number | null;
  headers: Headers;
}

/** GET /p/{slug} as a browser with (or without) the tag's ll_vid cookie. */
export async function visit(t: TestApp, slug: string, vid?: string | null, headers: Record<string, string> = {}): Promise<Visit> {
  const res = await t.app.request(`/p/${slug}`, { headers: { 'user-agent': CHROME_UA, ...(vid ? { cookie: `theme=dark; ll_vid=${vid}` } : {}), ...headers } });
  const html = await res.text();
  const setCookie = res.headers.get('set-cookie');
  const set = setCookie ? /^ll_vid=([A-Za-z0-9_-]+);/.exec(setCookie)?.[1] ?? null : null;
  const m = /variant_id:(\d+)/.exec(html);
  return { status: res.status, html, vid: set ?? vid ?? null, setCookie, variantId: m ? Number(m[1]) : null, headers: res.headers };
}

/** The page view the page's tag sends: run its before-send hook (the page's own script) on the event, as w.js does. */
export function pageViewOf(html: string): Record<string, unknown> {
  const event: Record<string, unknown> = { t: 'pv', u: `${ORIGIN}/p/offer`, r: '', ti: 'x', sw: 1280, sh: 800, l: 'en' };
  const hook = /<script nonce="[^"]+">(window\.llPageTest=[\s\S]*?)<\/script>/.exec(html);
  const name = /data-before-send="([^"]+)"/.exec(html)?.[1];
  if (!hook || !name) return event;
  const win: Record<string, (e: unknown) => Record<string, unknown>> = {};
  new Function('window', hook[1]!)(win);
  return win[name]!(event);
}

export async function sendView(t: TestApp, siteKey: string, v: Visit) {
  const r = await track(t, { k: siteKey, v: v.vid, e: [pageViewOf(v.html)] }, { origin: ORIGIN });
  if (r.status !== 202) throw new Error(`/t ${r.status} ${await r.text()}`);
}

/** A click on the page's button with `ctaId`, as the tag's click tracking sends it (its data-leadline-* attributes). */
export async function clickCta(t: TestApp, siteKey: string, v: Visit, ctaId = 'buy') {
  const a = new RegExp(`<a [^>]*data-leadline-prop-cta="${ctaId}"[^>]*>`).exec(v.html);
  if (!a) throw new Error(`no tracked button ${ctaId}`);
  const name = /data-leadline-event="([^"]+)"/.exec(a[0])![1]!;
  const p = Object.fromEntries([...a[0].matchAll(/data-leadline-prop-([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const r = await track(t, { k: siteKey, v: v.vid, e: [{ t: 'ev', u: `${ORIGIN}/p/offer`, n: name, p }] }, { origin: ORIGIN });
  if (r.status !== 202) throw new Error(`/t ${r.status}`);
}

export async function customEvent(t: TestApp, siteKey: string, vid: string, name: string) {
  const r = await track(t, { k: siteKey, v: vid, e: [{ t: 'ev', u: `${ORIGIN}/thanks`, n: name, p: {} }] }, { origin: ORIGIN });
  if (r.status !== 202) throw new Error(`/t ${r.status}`);
}

let sids = 0;
/** The form submitted by the widget (JSON, with the visitor id), as the enhanced form on the page does. */
export async function submitForm(t: TestApp, siteKey: string, formId: number, vid: string, email: string) {
  const res = await t.app.request(`/f/${formId}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGIN, 'user-agent': CHROME_UA },
    body: JSON.stringify({ k: siteKey, v: vid, sid: `sid${String(++sids).padStart(8, '0')}`, values: { email }, t: 5000, hp: '', url: `${ORIGIN}/p/offer` }),
  });
  if (res.status !== 200) throw new Error(`/f ${res.status} ${await res.text()}`);
}

export async function stats(t: TestApp, pageId: number) {
  const r = await t.json('GET', `/api/v1/pages/${pageId}/variants/stats`);
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return r.body as {
    status: string;
    min_reached: boolean;
    winner: { variant_id: number; picked_by: string } | null;
    variants: { variant_id: number; views: number; visitors: number; conversions: number; rate: number | null; versus_control: any }[];
  };
}

/** A seeded visitor id generator (mulberry32), ids shaped like the tag's (22 of a-z0-9). */
export function visitorIds(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  return () => Array.from({ length: 22 }, () => Math.floor(next() * 36).toString(36)).join('');
}
