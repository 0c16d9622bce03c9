import type { Ctx } from '../context';
import { tokenSigner } from './tokens';
import { publicBase } from './links';

/**
 * Open and click tracking in a message's HTML: the open pixel (/o/{token}) before </body>, and
 * every http(s) link of an <a> tag through a signed redirect (/c/{token}, the destination inside
 * the token). Registered in hooks.ts; runs for sends and tests, never for previews.
 *
 * Byte for byte, the HTML stays as it was except for the href values rewritten and the pixel:
 * tags are found by a scanner that knows quoted attribute values (a `>` inside one does not end
 * the tag), and within a tag only the value of the attribute named href changes, in the quotes it
 * had. Left alone: mailto:, tel:, #anchors, relative and other-scheme links, this server's own
 * links (/u/ unsubscribe and preferences, /o/, /c/: already tracked or not ours to count; /app/:
 * the dashboard's sign-in links), and
 * URLs longer than MAX_URL (the token must stay a link a mail client keeps whole).
 * Tokens carry only the send, the link's index and its URL, so the same send gives the same bytes.
 * The plain-text part is not rewritten: clicks from it are not counted.
 */

/** Longest destination put in a click token; longer links go out untracked. */
export const MAX_URL = 2048;

// An <a> start tag: attribute values in quotes may hold '>'.
const A_TAG = /<a(?=[\s>/])(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
// One attribute inside a tag: name, then optionally = and a value (quoted or bare).
const ATTR = /([^\s"'>/=]+)(?:(\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'<>`]+)))?/g;

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the character references a URL in an attribute carries (&amp; and numeric ones); others stay. */
export function decodeAttr(v: string): string {
  if (!v.includes('&')) return v;
  return v.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos));/g, (m, dec: string, hex: string, name: string) => {
    if (name) return NAMED[name]!;
    const cp = dec !== undefined ? Number(dec) : parseInt(hex, 16);
    return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : m;
  });
}

/** Whether a link (decoded) is one to track: http(s), not this server's own. */
export function trackable(url: string, base: string): boolean {
  if (!/^https?:\/\/[^\s]/i.test(url) || url.length > MAX_URL) return false;
  const own = `${base}/`.toLowerCase();
  const lower = url.toLowerCase();
  if (lower.startsWith(own)) {
    const rest = lower.slice(own.length);
    // app/: the dashboard's sign-in links (invitations, password resets) go straight to it.
    if (rest.startsWith('u/') || rest.startsWith('o/') || rest.startsWith('c/') || rest.startsWith('app/')) return false;
  }
  return true;
}

/** The pixel, invisible in every client that shows images. */
export const pixelTag = (src: string) =>
  `<img src="${src}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0" />`;

const [PIXEL_HEAD, PIXEL_TAIL] = pixelTag('\u0000').split('\u0000') as [string, string];

/** The HTML without its open pixel: an admin reading a message (the outbox page) is no open. */
export function withoutPixel(html: string): string {
  const at = html.lastIndexOf(`${PIXEL_HEAD}`);
  if (at < 0) return html;
  const end = html.indexOf(PIXEL_TAIL, at);
  if (end < 0 || !html.slice(at + PIXEL_HEAD.length, end).includes('/o/')) return html;
  return html.slice(0, at) + html.slice(end + PIXEL_TAIL.length);
}

/** The HTML with tracked links and the open pixel, for one send. */
export async function trackHtml(ctx: Ctx, html: string, sendId: number): Promise<string> {
  const base = publicBase(ctx.config);
  // First find the links (tokens are signed asynchronously), then splice them in.
  const edits: { start: number; end: number; url: string; index: number }[] = [];
  let index = 0;
  for (const tag of html.matchAll(A_TAG)) {
    const text = tag[0];
    ATTR.lastIndex = 2; // after "<a"
    for (let m = ATTR.exec(text); m; m = ATTR.exec(text)) {
      if (m[1]!.toLowerCase() !== 'href') continue;
      const raw = m[3] ?? m[4] ?? m[5];
      if (raw === undefined) break;
      const url = decodeAttr(raw).trim();
      if (trackable(url, base)) {
        // Where the value sits: after the name, the "=" part and an opening quote if any.
        const start = tag.index + m.index + m[1]!.length + m[2]!.length + (m[5] === undefined ? 1 : 0);
        edits.push({ start, end: start + raw.length, url, index: index++ });
      }
      break; // the first href is the one browsers use
    }
  }
  // One key lookup per message; the tokens themselves are signed synchronously.
  const sign = await tokenSigner(ctx);
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += html.slice(at, e.start) + `${base}/c/${sign('click', [sendId, e.index, e.url])}`;
    at = e.end;
  }
  out += html.slice(at);
  const pixel = pixelTag(`${base}/o/${sign('open', [sendId])}`);
  let close = -1;
  for (const m of out.matchAll(/<\/body[\s>]/gi)) close = m.index;
  return close < 0 ? out + pixel : out.slice(0, close) + pixel + out.slice(close);
}
