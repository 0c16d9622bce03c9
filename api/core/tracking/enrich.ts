import { UAParser } from 'ua-parser-js';
import { isbot } from 'isbot';
import { LRUCache } from 'lru-cache';

export interface ClientInfo {
  browser: string | null;
  os: string | null;
  device: 'desktop' | 'mobile' | 'tablet' | 'other';
}

// User agents repeat heavily; parsing is the most expensive step of a hit.
const uaCache = new LRUCache<string, ClientInfo>({ max: 5000 });

export function parseUserAgent(ua: string): ClientInfo {
  const key = ua.slice(0, 512);
  const hit = uaCache.get(key);
  if (hit) return hit;
  const r = new UAParser(key).getResult();
  const type = r.device.type;
  const info: ClientInfo = {
    browser: r.browser.name ?? null,
    os: r.os.name ?? null,
    device: type === 'mobile' ? 'mobile' : type === 'tablet' ? 'tablet' : type === undefined ? 'desktop' : 'other',
  };
  uaCache.set(key, info);
  return info;
}

// isbot runs one large regular expression; most hits repeat a handful of agents.
const botCache = new LRUCache<string, boolean>({ max: 5000 });

export function isBot(ua: string | undefined | null): boolean {
  if (!ua || ua.length < 10) return true;
  const hit = botCache.get(ua);
  if (hit !== undefined) return hit;
  const bot = isbot(ua);
  if (ua.length <= 512) botCache.set(ua, bot);
  return bot;
}

/** Zeroes the host part: the last octet of IPv4, all but the first 48 bits of IPv6. */
export function anonymizeIp(ip: string): string {
  if (ip.includes('.') && !ip.includes(':')) return ip.replace(/\.\d+$/, '.0');
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+)\.\d+$/i.exec(ip);
  if (v4mapped) return `::ffff:${v4mapped[1]}.0`;
  // Expand "::" so the first three groups are real groups, whatever was compressed.
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  // Canonical form: no leading zeros, trailing zero groups folded into "::".
  const kept = groups.slice(0, 3).map((g) => (parseInt(g || '0', 16) || 0).toString(16));
  while (kept.length && kept[kept.length - 1] === '0') kept.pop();
  return kept.join(':') + '::';
}

const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;

export type Source = Partial<Record<(typeof UTM_KEYS)[number] | 'referrer' | 'landing_url', string>>;

/** UTM parameters of a URL (bounded), or null when it has none or is not a URL. */
export function utmOf(url: string): Partial<Record<(typeof UTM_KEYS)[number], string>> | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const out: Record<string, string> = {};
  for (const k of UTM_KEYS) {
    const v = u.searchParams.get(k);
    if (v) out[k] = v.slice(0, 200);
  }
  return Object.keys(out).length ? out : null;
}

/** First-touch source of a landing page view: its UTM parameters and an external referrer. */
export function sourceOf(url: string, referrer: string | undefined): Source {
  const src: Source = { ...utmOf(url), landing_url: url };
  if (referrer) {
    try {
      if (new URL(referrer).host !== new URL(url).host) src.referrer = referrer;
    } catch {
      // not a URL: no referrer
    }
  }
  return src;
}
