import { isbot } from 'isbot';

/**
 * Was an open or a click made by a machine (a privacy proxy prefetching images, a security
 * gateway following links) rather than by the person the email went to? One function, so the
 * whole heuristic reads in one place; opens and clicks it flags are still recorded (events with
 * props.machine = true, opened_at / clicked_at), but never set human_opened_at /
 * human_clicked_at, which the human rates are computed from.
 *
 * What it can and cannot know, honestly: a pixel request carries a user agent, an address and a
 * time, nothing more. Apple Mail Privacy Protection loads every image of every message on
 * delivery, whether or not anyone reads it, so an MPP "open" says nothing about a person; we
 * flag it, and a human who then clicks is counted as a human open by the click. A proxy that
 * loads images when the message is displayed (Gmail's, Yahoo's) does mean a person looked, so it
 * counts as human, even though its address and user agent are the proxy's. Link scanners
 * (Microsoft Defender Safe Links, Proofpoint, Mimecast, Barracuda …) fetch every link as the
 * message arrives, often with a browser-like user agent: the time since the send is what gives
 * them away. Some will slip through, and an occasional very fast human is flagged; the raw
 * numbers are always reported beside the human ones.
 */

export interface HitFacts {
  kind: 'open' | 'click';
  method: string;
  userAgent: string | null;
  /** The client's address as the runtime saw it (null when unknown). */
  ip: string | null;
  now: number;
  /** When the provider accepted the message, and when it reported delivery (ms). */
  sentAt: number | null;
  deliveredAt: number | null;
}

export type MachineReason = 'head' | 'no_user_agent' | 'apple_mpp' | 'scanner' | 'bot' | 'too_fast';

/** A click this soon after the message was sent or delivered is a gateway's scan, not a reader. */
export const FAST_CLICK_MS = 10_000;
/** An open this soon after sending is a prefetch on receipt (a gateway, MPP) rather than a reader. */
export const FAST_OPEN_MS = 2_000;

// Image proxies that fetch on display: a person opened the message. isbot calls them bots.
const DISPLAY_PROXY = /GoogleImageProxy|ggpht\.com|YahooMailProxy/i;

// Security gateways and link scanners that name themselves. Most of them also fetch with a
// plain browser user agent at times; the timing rule below catches those.
const SCANNER =
  /Barracuda|Proofpoint|Mimecast|SafeLinks|Safe ?Links|Microsoft ?Defender|MS ?Defender|Forcepoint|Trend ?Micro|Symantec|MessageLabs|IronPort|Cisco|FireEye|Trellix|Sophos|Zscaler|Check ?Point|AppRiver|Bitdefender|Kaspersky|Cloudmark|SpamTitan|Hornet ?Security|Vade ?Secure|Libra ?Esva|urldefense|Avanan|Abnormal ?Security|Ironscales|WatchGuard|Fortinet|FortiGuard/i;

// Apple's own network (17.0.0.0/8), written as dotted IPv4 or IPv4-mapped IPv6. MPP fetches
// come through Apple's proxies; those seen from this block are Apple's, never a reader's home.
const APPLE_NET = /^(?:::ffff:)?17\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i;

/**
 * Why this request was a machine's, or null for a person. In order:
 * - HEAD: a link checker asking whether the URL exists; browsers and mail clients send GET.
 * - no user agent: every mail client and browser sends one; scripts often do not.
 * - Apple MPP: its proxy sends the bare user agent "Mozilla/5.0" (no platform, no engine
 *   tokens, which no real client sends), or comes from Apple's 17.0.0.0/8.
 * - a display proxy (Gmail, Yahoo) on an open: a person, as above.
 * - a scanner naming itself, or anything else the bot list (isbot) knows: a machine.
 * - timing: a click within FAST_CLICK_MS, or an open within FAST_OPEN_MS, of the send (or of the
 *   delivery report, when it came later): no person reads and clicks that fast.
 */
export function machineReason(f: HitFacts): MachineReason | null {
  if (f.method === 'HEAD') return 'head';
  const ua = (f.userAgent ?? '').trim();
  if (!ua) return 'no_user_agent';
  if (ua === 'Mozilla/5.0' || (f.ip !== null && APPLE_NET.test(f.ip))) return 'apple_mpp';
  const displayProxy = f.kind === 'open' && DISPLAY_PROXY.test(ua);
  if (!displayProxy) {
    if (SCANNER.test(ua)) return 'scanner';
    if (isbot(ua)) return 'bot';
  }
  const since = Math.max(f.sentAt ?? -Infinity, f.deliveredAt ?? -Infinity);
  if (Number.isFinite(since) && f.now - since < (f.kind === 'click' ? FAST_CLICK_MS : FAST_OPEN_MS)) return 'too_fast';
  return null;
}
