import { z } from 'zod';
import type { Ctx } from '../context';
import { AppError, ValidationError } from '../errors';
import { originAllowed, siteByKey, type SiteRecord } from './sites';

/**
 * How a browser names its site and itself on every public endpoint (/t, /f,
 * /focus, /a), and the one check that a site key is known and the calling
 * page may use it.
 */

const SITE_KEY_RE = /^[A-Za-z0-9_-]{8,64}$/;
/** The site's public key, as the script tag carries it in data-site. */
export const SITE_KEY = z.string().regex(SITE_KEY_RE, 'must be a site key');
/** The random id the tracker keeps for one browser. */
export const VISITOR_ID = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'must be a visitor id (16–64 of A-Z a-z 0-9 _ -)');
/** A form display's own id, so that a double click is one submission. */
export const SUBMISSION_ID = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8–64 of A-Z a-z 0-9 _ -');

/**
 * The site a public request names. With `origin` given (null: the request
 * carried none), the page must be on one of the site's allowed origins, or be
 * `alsoAllowed` (the server's own pages, e.g. the no-JS form). Without it only
 * the key is checked (download links are followed from anywhere).
 */
export async function requireSite(
  ctx: Ctx,
  key: string,
  check?: { origin: string | null; alsoAllowed?: string | null },
): Promise<SiteRecord> {
  const site = SITE_KEY_RE.test(key) ? await siteByKey(ctx, key) : null;
  if (!site) throw new AppError('NOT_FOUND', 'Unknown site key.');
  if (check && !originAllowed(site, check.origin) && !(check.alsoAllowed && check.origin === check.alsoAllowed)) {
    throw new AppError('ORIGIN_NOT_ALLOWED', `Origin ${check.origin ?? '(none)'} is not allowed for this site.`);
  }
  return site;
}

/** A page to send a browser back to is followed only when it is on one of the site's allowed origins. */
export function checkReturnUrl(site: SiteRecord, url: string, field = '_return'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValidationError([{ field, message: 'must be an absolute URL' }]);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || url.length > 2048 || !originAllowed(site, u.origin)) {
    throw new ValidationError([{ field, message: "must be a page on one of the site's allowed origins" }]);
  }
  return u.href;
}
