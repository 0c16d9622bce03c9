import ipaddr from 'ipaddr.js';
import type { Config } from '../../env';

/** What sending needs from the context (core/context.ts Ctx has it), named here so util depends on nothing above it. */
interface SendContext {
  config: Pick<Config, 'OUTBOUND_ALLOW_LOOPBACK'>;
  outbound?: OutboundTransport;
  log: { debug(msg: string, data?: Record<string, unknown>): void };
}

/**
 * Outbound HTTP: the policy (which destinations Leadline may call) and the one
 * helper every sender goes through. A webhook POST carries contact data, and
 * its status and error are readable with a read key: pointed at an internal
 * address it would be a port scanner and a way into metadata services. So
 * only public unicast addresses are called; loopback only when the operator
 * says so (OUTBOUND_ALLOW_LOOPBACK, for tests and local development).
 *
 * The policy is pure (no DNS here: core runs on Workers too). The runtime's
 * transport applies it again to the address it actually connects to
 * (api/entry/outbound-node.ts), which is what defeats DNS rebinding.
 */
export interface OutboundPolicy {
  allowLoopback: boolean;
}

export const policyOf = (config: Pick<Config, 'OUTBOUND_ALLOW_LOOPBACK'>): OutboundPolicy => ({ allowLoopback: config.OUTBOUND_ALLOW_LOOPBACK });

const isLoopbackRange = (range: string) => range === 'loopback';

/**
 * May Leadline connect to this IP address? Only ipaddr.js's "unicast" (public)
 * ranges pass: private, loopback, link-local (169.254/16: cloud metadata),
 * unique-local (fc00::/7, incl. AWS's fd00:ec2::254), CGNAT (100.64/10),
 * 0.0.0.0/8, multicast, broadcast, reserved and documentation ranges do not.
 * IPv6 forms that carry an IPv4 address are judged by that address
 * (::ffff:a.b.c.d) or refused outright (NAT64, 6to4, Teredo, ::a.b.c.d), since
 * the network may route them to the embedded private address.
 */
export function addressAllowed(address: string, policy: OutboundPolicy): boolean {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(text)) return false;
  let ip: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(text);
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) ip = v6.toIPv4Address();
    // ::/96 other than :: and ::1: deprecated IPv4-compatible addresses.
    else if (v6.parts.slice(0, 6).every((p) => p === 0) && !(v6.parts[6] === 0 && v6.parts[7]! <= 1)) return false;
  }
  const range = ip.range();
  return range === 'unicast' || (policy.allowLoopback && isLoopbackRange(range));
}

// Names for the machine itself (RFC 6761 says *.localhost is loopback too).
const LOOPBACK_NAME = /^(?:.+\.)?localhost$/;
// Private-use suffixes (metadata.google.internal, *.ec2.internal, mDNS .local,
// home networks) and metadata names that live under public-looking domains.
const INTERNAL_NAME = /(?:^|\.)(?:internal|local|localdomain|home\.arpa)$|^metadata\.goog$/;

/**
 * May Leadline call this host, judged without DNS? `hostname` as WHATWG URL
 * parsing gives it: decimal, octal and hex IPv4 forms (http://2130706433/,
 * http://0x7f.1/) are already dotted quads there, IPv6 is in brackets.
 * Single-label names are refused: resolvers complete them with the server's
 * search domains (`metadata`, `instance-data`, `kubernetes`, intranet hosts).
 */
export function hostnameAllowed(hostname: string, policy: OutboundPolicy): boolean {
  const host = hostname.toLowerCase().replace(/\.+$/, '');
  if (host.startsWith('[') || ipaddr.IPv4.isValidFourPartDecimal(host)) return addressAllowed(host, policy);
  // Anything else ipaddr.js reads as an address (e.g. "127.1" given without URL parsing).
  if (ipaddr.isValid(host)) return addressAllowed(host, policy);
  if (LOOPBACK_NAME.test(host)) return policy.allowLoopback;
  if (!host.includes('.') || INTERNAL_NAME.test(host)) return false;
  return true;
}

/**
 * Why a URL may not be called, or null when it may: `message` is a sentence
 * for a 422 naming the field, `reason` what the delivery log says.
 */
export function urlProblem(raw: string, policy: OutboundPolicy): { reason: 'refused' | 'url'; message: string } | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { reason: 'url', message: 'must be a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: 'url', message: 'must be an http(s) URL' };
  // Credentials in a URL would be sent as Basic auth; webhooks are signed instead.
  if (url.username || url.password) return { reason: 'url', message: 'must not contain a user name or password' };
  if (!hostnameAllowed(url.hostname, policy)) {
    const what = policy.allowLoopback ? 'private, link-local or metadata' : 'private, loopback, link-local or metadata';
    return { reason: 'refused', message: `must not point to a ${what} address` };
  }
  return null;
}

// What the delivery log may say about a failure: the same few sentences
// whatever the socket said, so that it tells nothing about a network's insides.
export const OUTBOUND_ERRORS = {
  refused: 'destination refused: private address',
  url: 'destination refused: URL not allowed',
  timeout: 'timed out',
  failed: 'connection failed',
} as const;
export type OutboundFailure = keyof typeof OUTBOUND_ERRORS;

export class OutboundError extends Error {
  constructor(readonly reason: OutboundFailure) {
    super(OUTBOUND_ERRORS[reason]);
  }
}

export interface OutboundRequest {
  /** Already checked by the policy; transports use its parsed parts, never the raw string. */
  url: URL;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** The transport reads at most this much of the answer, then hangs up. */
  maxResponseBytes: number;
  /** For the transport's own check of the address it connects to. */
  policy: OutboundPolicy;
}
export interface OutboundResponse {
  status: number;
  /** The start of the answer's body, at most maxResponseBytes. */
  body: Uint8Array;
}
/** Makes one request, following no redirect and sending nothing but what it is given; throws OutboundError. */
export type OutboundTransport = (req: OutboundRequest) => Promise<OutboundResponse>;

async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      const part = value.subarray(0, max - size);
      parts.push(part);
      size += part.length;
    }
  } finally {
    void reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

/**
 * The web-standard transport: what the Workers entry uses, and the fallback
 * when an entry gives none. It cannot check the address it connects to, since
 * fetch resolves names itself and Workers have no DNS API; there the literal
 * checks of sendOutbound are what Leadline adds, and Cloudflare refuses
 * private and internal targets of a Worker's fetch anyway. The Node entry
 * passes a transport that checks the resolved address at connect time.
 */
export const fetchTransport: OutboundTransport = async (req) => {
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    return { status: res.status, body: await readCapped(res.body, req.maxResponseBytes) };
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    throw new OutboundError(name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'failed');
  }
};

export const OUTBOUND_TIMEOUT_MS = 10_000;
export const OUTBOUND_MAX_RESPONSE_BYTES = 4096;
const EXCERPT_CHARS = 300;

export interface OutboundResult {
  /** The receiver's HTTP status, or null when there was no answer. */
  status: number | null;
  /** Null on a 2xx; otherwise a sentence safe to show in the delivery log. */
  error: string | null;
  /** The start of the receiver's answer (at most 300 characters, control characters removed); '' when there was none. */
  excerpt: string;
}

/**
 * The one way Leadline calls a URL someone configured: refuses what the
 * policy refuses before any DNS or socket, lets the transport check the
 * address it connects to, follows no redirect (a 3xx is a failure), bounds
 * time and the bytes read, and turns every failure into one of a few fixed
 * sentences.
 */
export async function sendOutbound(ctx: SendContext, req: { url: string; headers: Record<string, string>; body: string }): Promise<OutboundResult> {
  const policy = policyOf(ctx.config);
  const problem = urlProblem(req.url, policy);
  if (problem) return { status: null, error: OUTBOUND_ERRORS[problem.reason], excerpt: '' };
  const transport = ctx.outbound ?? fetchTransport;
  let res: OutboundResponse;
  try {
    res = await transport({
      url: new URL(req.url),
      method: 'POST',
      headers: req.headers,
      body: req.body,
      timeoutMs: OUTBOUND_TIMEOUT_MS,
      maxResponseBytes: OUTBOUND_MAX_RESPONSE_BYTES,
      policy,
    });
  } catch (e) {
    if (e instanceof OutboundError) return { status: null, error: e.message, excerpt: '' };
    ctx.log.debug('outbound request failed', { error: e instanceof Error ? e.message : String(e) });
    return { status: null, error: OUTBOUND_ERRORS.failed, excerpt: '' };
  }
  // The receiver's own words help its owner debug it; control characters are not kept.
  const excerpt = new TextDecoder()
    .decode(res.body)
    .replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ')
    .trim()
    .slice(0, EXCERPT_CHARS);
  if (res.status >= 200 && res.status < 300) return { status: res.status, error: null, excerpt };
  if (res.status >= 300 && res.status < 400) return { status: res.status, error: `HTTP ${res.status}: redirects are not followed`, excerpt };
  return { status: res.status, error: excerpt ? `HTTP ${res.status}: ${excerpt}` : `HTTP ${res.status}`, excerpt };
}
