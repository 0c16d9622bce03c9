import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AppError, BadRequestError, NotFoundError } from '../../core/errors';
import { escapeHtml } from '../../core/util/html';
import { applyPreferences, leaveByLink, openLink, preferencesOf, type LinkHolder, type PreferenceAction, type PreferenceResult } from '../../core/email/unsubscribe';
import type { SubscriptionsView } from '../../core/email/subscriptions';
import type { AppEnv } from '../shared';

/**
 * /u/{token}: where the unsubscribe link of every marketing email leads (links.ts signs it).
 *
 * POST is RFC 8058 one-click: a mailbox provider (Gmail, Yahoo, Apple Mail…) posts
 * `List-Unsubscribe=One-Click` as application/x-www-form-urlencoded or multipart/form-data, or
 * nothing at all, with no cookie and no way to follow a redirect. It leaves what the link
 * names (its category, or all marketing email when it names none) at once and answers an empty
 * 200, whatever the body holds. The same URL also takes the preference centre's own form posts,
 * told apart by their `action` field (a body with List-Unsubscribe in it is always one-click).
 *
 * GET shows the preference centre: a server-rendered page (no script; a CSP that allows none)
 * listing the subscription categories with the contact's state, each to leave or rejoin, and
 * "leave all". A GET never changes anything: link scanners and mail-privacy proxies fetch every
 * link in a message. The token in the URL is the only credential (so no CSRF token: a forged
 * post needs the token, and whoever has it may already post).
 *
 * A tampered or unknown token is a 400 (a page for a browser's GET, else the error shape). Links in previews and test
 * messages carry "preview", which is no token.
 */

const STYLE = `body{font:16px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;padding:1.5rem;color:#1a1a1a;background:#f6f6f6}
main{max-width:34rem;margin:0 auto;background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:1.5rem 1.75rem}
h1{font-size:1.35rem;margin:0 0 1rem}fieldset{border:0;padding:0;margin:1rem 0}legend{font-weight:600;margin-bottom:.5rem}
label{display:flex;gap:.6rem;align-items:flex-start;padding:.45rem 0;border-bottom:1px solid #eee}label small{display:block;color:#555}
input[type=checkbox]{margin-top:.3rem;width:1.1rem;height:1.1rem}
button{font:inherit;padding:.55rem 1rem;border-radius:6px;border:1px solid #1f4fd1;background:#1f4fd1;color:#fff;cursor:pointer}
button.quiet{background:#fff;color:#1f4fd1}form{margin:1rem 0}
.done{background:#eef7ee;border:1px solid #9ccc9c;border-radius:6px;padding:.75rem 1rem;margin-bottom:1rem}.done p,.notice p{margin:.2rem 0}
.notice{background:#fff8e5;border:1px solid #e6cf8a;border-radius:6px;padding:.75rem 1rem}.note{color:#555;font-size:.9rem}`;

let styleHash: Promise<string> | undefined;
/** The CSP names the page's one stylesheet by its hash: no inline code of any other kind can run. */
function cspOf(): Promise<string> {
  styleHash ??= crypto.subtle.digest('SHA-256', new TextEncoder().encode(STYLE)).then((d) => {
    let s = '';
    for (const b of new Uint8Array(d)) s += String.fromCharCode(b);
    return `default-src 'none'; style-src 'sha256-${btoa(s)}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
  });
  return styleHash;
}

async function page(c: Context<AppEnv>, status: 200 | 400 | 404, title: string, body: string) {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex,nofollow"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
  return c.html(html, status, {
    'Content-Security-Policy': await cspOf(),
    'Cache-Control': 'no-store',
    // The token in the URL is a credential: it goes to no other site.
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  });
}

/** A browser (Accept: text/html) gets a page about a bad link; anything else the error shape. */
const wantsHtml = (c: Context<AppEnv>) => /text\/html/i.test(c.req.header('accept') ?? '');

const invalidPage = (c: Context<AppEnv>) => {
  if (!wantsHtml(c)) throw new BadRequestError('This unsubscribe link is not valid.');
  return page(
    c,
    400,
    'Link not valid',
    '<h1>This link is not valid</h1><p>It may have been cut short or changed on the way. Open the link from the email again, or copy the whole of it into the address bar. (Links in previews and test emails never work.)</p>',
  );
};

const nobodyPage = (c: Context<AppEnv>) => {
  if (!wantsHtml(c)) throw new NotFoundError('Contact');
  return page(c, 404, 'Email preferences', '<h1>Email preferences</h1><p>There is nothing on record for this address any more, so there is nothing to change here.</p>');
};

const names = (view: SubscriptionsView, ids: number[]) =>
  ids.map((id) => `<strong>${escapeHtml(view.categories.find((c) => c.category_id === id)?.name ?? `#${id}`)}</strong>`).join(', ');

/** What happened, and nothing that did not. */
function confirmation(view: SubscriptionsView, r: PreferenceResult): string {
  const lines: string[] = [];
  if (r.leftAll) lines.push('You have left all marketing email: no more will be sent to you.');
  if (r.rejoinedAll) lines.push('You will get marketing email again.');
  if (r.left.length) lines.push(`You have left: ${names(view, r.left)}.`);
  if (r.rejoined.length) lines.push(`You will get again: ${names(view, r.rejoined)}.`);
  if (!lines.length) lines.push('Nothing changed: your choices were already as you asked.');
  return `<div class="done" role="status">${lines.map((l) => `<p>${l}</p>`).join('')}</div>`;
}

function preferencesHtml(h: LinkHolder, view: SubscriptionsView, done: string): string {
  const out: string[] = ['<h1>Email preferences</h1>', done];
  const left = view.unsubscribed_from_all;
  const linkCategory = h.categoryId === null ? null : view.categories.find((x) => x.category_id === h.categoryId);
  if (!left && linkCategory?.subscribed) {
    out.push(
      `<form method="post"><input type="hidden" name="action" value="leave"><button type="submit">Unsubscribe from ${escapeHtml(linkCategory.name)}</button></form>`,
    );
  }
  if (left) {
    out.push(
      '<div class="notice"><p>You have left all marketing email.</p><form method="post"><input type="hidden" name="action" value="rejoin_all"><button type="submit" class="quiet">Get marketing email again</button></form></div>',
    );
  }
  if (view.email_blocked) {
    out.push('<p class="notice">The sender has switched off email to this address, so none is sent whatever you choose here.</p>');
  }
  if (view.categories.length) {
    const rows = view.categories
      .map((cat) => {
        const on = cat.subscribed && !left;
        const desc = cat.description ? `<small>${escapeHtml(cat.description)}</small>` : '';
        return `<input type="hidden" name="shown" value="${cat.category_id}"><label><input type="checkbox" name="c" value="${cat.category_id}"${on ? ' checked' : ''}><span>${escapeHtml(cat.name)}${desc}</span></label>`;
      })
      .join('');
    out.push(
      `<form method="post"><input type="hidden" name="action" value="save"><fieldset><legend>What you get (untick to leave)</legend>${rows}</fieldset><button type="submit">Save my choices</button></form>`,
    );
  }
  if (!left) {
    out.push('<form method="post"><input type="hidden" name="action" value="leave_all"><button type="submit" class="quiet">Leave all marketing email</button></form>');
  }
  out.push('<p class="note">Transactional emails, such as receipts, are not marketing and are not changed here.</p>');
  return out.join('\n');
}

/** A form body's fields as [name, value] pairs (strings only), or null when the body is no form. */
async function formFields(c: Context<AppEnv>): Promise<[string, string][] | null> {
  const type = (c.req.header('content-type') ?? '').trim().toLowerCase();
  const urlencoded = type.startsWith('application/x-www-form-urlencoded');
  const multipart = type.startsWith('multipart/form-data');
  if (!urlencoded && !multipart) return null;
  let bytes: ArrayBuffer;
  try {
    bytes = await c.req.arrayBuffer();
  } catch (e) {
    // Over the body limit while a chunked body streams in: the limit's own 413, not a 400.
    if (e instanceof AppError || e instanceof HTTPException) throw e;
    throw new BadRequestError('The request body could not be read.');
  }
  try {
    if (urlencoded) return [...new URLSearchParams(new TextDecoder().decode(bytes))];
    const form = await new Response(bytes, { headers: { 'content-type': c.req.header('content-type')! } }).formData();
    const out: [string, string][] = [];
    form.forEach((v, k) => {
      if (typeof v === 'string') out.push([k, v]);
    });
    return out;
  } catch {
    // A body that is no well-formed form is still a one-click post.
    return null;
  }
}

const ID = /^[1-9][0-9]{0,14}$/;
const MAX_IDS = 1000;

/** The preference form's action, or null: a one-click post. */
function actionOf(fields: [string, string][] | null): PreferenceAction | null {
  if (!fields) return null;
  if (fields.some(([k]) => k === 'List-Unsubscribe')) return null;
  const action = fields.find(([k]) => k === 'action')?.[1];
  if (action === 'leave' || action === 'leave_all' || action === 'rejoin_all') return { action };
  if (action !== 'save') return null;
  const ids = (name: string) => [...new Set(fields.filter(([k, v]) => k === name && ID.test(v)).map(([, v]) => Number(v)))].slice(0, MAX_IDS);
  return { action: 'save', shown: ids('shown'), ticked: ids('c') };
}

export const unsubscribeRoutes = new Hono<AppEnv>()
  .get('/u/:token', async (c) => {
    const ctx = c.get('ctx');
    const h = await openLink(ctx, c.req.param('token'));
    if (!h) return invalidPage(c);
    const view = await preferencesOf(ctx, h);
    if (!view) return nobodyPage(c);
    return page(c, 200, 'Email preferences', preferencesHtml(h, view, ''));
  })
  .post('/u/:token', async (c) => {
    const ctx = c.get('ctx');
    const h = await openLink(ctx, c.req.param('token'));
    if (!h) throw new BadRequestError('This unsubscribe link is not valid.');
    const action = actionOf(await formFields(c));
    if (!action) {
      await leaveByLink(ctx, h, 'one_click');
      return c.body(null, 200, { 'Cache-Control': 'no-store' });
    }
    const result = await applyPreferences(ctx, h, action);
    const view = await preferencesOf(ctx, h);
    if (!view) return nobodyPage(c);
    return page(c, 200, 'Email preferences saved', preferencesHtml(h, view, confirmation(view, result)));
  });
