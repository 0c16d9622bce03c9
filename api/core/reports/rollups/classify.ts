// Where a visit came from, decided once when its session starts (sessions.channel and friends),
// by one function the traffic reports and attribution's visit touches both read.

export const CHANNELS = ['direct', 'organic_search', 'social', 'email', 'paid', 'referral', 'other'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface Visit {
  channel: Channel;
  /** utm_source, else the external referrer's host without "www."; null: neither. */
  source: string | null;
  medium: string | null;
  campaign: string | null;
  /** The external referrer's host (a referrer on the page's own host is no referrer). */
  referrer: string | null;
}

// Hosts by registrable name; a host matches a name when it is that name or a subdomain of it.
const SOCIAL = [
  'facebook.com', 'fb.com', 'fb.me', 'instagram.com', 'twitter.com', 't.co', 'x.com', 'linkedin.com', 'lnkd.in', 'reddit.com',
  'pinterest.com', 'youtube.com', 'youtu.be', 'tiktok.com', 'threads.net', 'bsky.app', 'mastodon.social', 'news.ycombinator.com',
  'xing.com', 'vk.com', 'tumblr.com', 'quora.com', 'snapchat.com', 'whatsapp.com', 'telegram.org', 't.me',
];
// Search engines; google and yandex have a host per country (google.de, google.co.uk, yandex.ru).
const SEARCH = ['bing.com', 'duckduckgo.com', 'yahoo.com', 'baidu.com', 'ecosia.org', 'search.brave.com', 'startpage.com', 'qwant.com', 'naver.com', 'seznam.cz', 'yahoo.co.jp', 'ask.com', 'sogou.com'];
const COUNTRY_SEARCH = /(^|\.)(google|yandex)\.[a-z]{2,3}(\.[a-z]{2})?$/;
// utm_source values that name a network or engine without a referrer (apps strip it).
const SOCIAL_SOURCES = new Set(['facebook', 'fb', 'instagram', 'ig', 'twitter', 'x', 'linkedin', 'reddit', 'pinterest', 'youtube', 'tiktok', 'threads', 'bluesky', 'mastodon', 'xing']);
const SEARCH_SOURCES = new Set(['google', 'bing', 'duckduckgo', 'yahoo', 'yandex', 'baidu', 'ecosia', 'brave', 'startpage', 'qwant']);

const within = (host: string, names: readonly string[]) => names.some((n) => host === n || host.endsWith(`.${n}`));

const MAX = 200;
const MAX_PATH = 500;
const clip = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim().slice(0, MAX) : typeof v === 'number' ? String(v) : null);

// URLs repeat (a site's pages, the big referrers): parsed ones are remembered, a few thousand at a time.
const parsed = new Map<string, { host: string | null; path: string | null }>();

function parse(u: string): { host: string | null; path: string | null } {
  let p = parsed.get(u);
  if (p) return p;
  try {
    const x = new URL(u);
    const web = /^https?:$/.test(x.protocol);
    p = { host: x.hostname ? x.hostname.toLowerCase().slice(0, MAX) : null, path: web ? (x.pathname || '/').slice(0, MAX_PATH) : null };
  } catch {
    p = { host: null, path: null };
  }
  if (parsed.size >= 5000) parsed.clear();
  parsed.set(u, p);
  return p;
}

const hostOf = (u: string | null | undefined): string | null => (u ? parse(u).host : null);

const bare = (host: string) => (host.startsWith('www.') ? host.slice(4) : host);

function utmFromUrl(url: string | null): Record<string, string> {
  if (!url || !url.includes('utm_')) return {};
  try {
    const q = new URL(url).searchParams;
    const out: Record<string, string> = {};
    for (const k of ['utm_source', 'utm_medium', 'utm_campaign']) {
      const v = q.get(k);
      if (v) out[k] = v;
    }
    return out;
  } catch {
    return {};
  }
}

/**
 * The channel of a visit from its landing page view: the URL, the referrer and the view's props
 * (utm_* as the tracker stored them; read from the URL when the props have none). In order:
 *   utm_medium cpc, ppc, cpm, cpv, display or paid… → paid; email, e-mail, newsletter → email;
 *   social or a social network (referrer host or utm_source) → social;
 *   a search engine (referrer host or utm_source) → organic_search (organic/seo media too);
 *   any other referrer host than the page's own → referral;
 *   UTM parameters that match nothing above → other; else direct.
 */
export function classifyVisit(url: string | null, referrer: string | null, props: Record<string, unknown> = {}): Visit {
  const fromUrl = props.utm_source === undefined && props.utm_medium === undefined && props.utm_campaign === undefined ? utmFromUrl(url) : {};
  const source = clip(props.utm_source ?? fromUrl.utm_source);
  const medium = clip(props.utm_medium ?? fromUrl.utm_medium);
  const campaign = clip(props.utm_campaign ?? fromUrl.utm_campaign);
  const pageHost = hostOf(url);
  let refHost = hostOf(referrer);
  if (refHost && pageHost && bare(refHost) === bare(pageHost)) refHost = null;
  const m = medium?.toLowerCase() ?? '';
  const s = source?.toLowerCase() ?? '';
  const visit = (channel: Channel): Visit => ({ channel, source: source ?? (refHost ? bare(refHost) : null), medium, campaign, referrer: refHost });
  if (/^(cpc|ppc|cpm|cpv|cpa|display|paid.*)$/.test(m)) return visit('paid');
  if (/^(e-?mail|newsletter)$/.test(m)) return visit('email');
  if (/^(social|social[-_ ]?media|sm)$/.test(m) || SOCIAL_SOURCES.has(s) || (refHost && within(refHost, SOCIAL))) return visit('social');
  if (/^(organic|seo)$/.test(m) || SEARCH_SOURCES.has(s) || (refHost && (within(refHost, SEARCH) || COUNTRY_SEARCH.test(refHost)))) return visit('organic_search');
  if (refHost) return visit('referral');
  if (source || medium || campaign) return visit('other');
  return visit('direct');
}

/** A page URL's path, without query or fragment (at most 500 characters); null when it has none. */
export function pagePath(url: string | null): string | null {
  if (!url) return null;
  if (url.startsWith('/')) return url.split(/[?#]/, 1)[0]!.slice(0, MAX_PATH) || null;
  return parse(url).path;
}
