import { Hono } from 'hono';
import { demoPage } from '../core/demo';
import type { AppEnv } from './shared';

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

// A page carrying the script tag, the sample form and (after 3 s) the sample focus item.
export const demoRoutes = new Hono<AppEnv>().get('/demo', async (c) => {
  let demo: Awaited<ReturnType<typeof demoPage>>;
  try {
    demo = await demoPage({ ctx: c.get('ctx') });
  } catch {
    return c.html('<!doctype html><title>No demo</title><p>The demo samples were removed (or this database had data before its first start).</p>', 404);
  }
  const key = esc(demo.siteKey);
  const back = esc(encodeURIComponent(new URL('/demo', c.req.url).href));
  return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leadline demo (sample)</title>
<style>
body{font:16px/1.6 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
code,pre{background:#f3f4f6;border-radius:4px;padding:.1em .3em}pre{padding:.8em;overflow:auto}
.sample{display:inline-block;background:#fef3c7;color:#92400e;border-radius:4px;padding:0 .4em;font-size:.85em}
</style>
<script async src="/w.js" data-site="${key}" data-allow-local></script>
</head><body>
<h1>Leadline demo <span class="sample">sample</span></h1>
<p>This page carries the one script tag of the sample site <code>Demo site (sample)</code>:</p>
<pre>&lt;script async src="/w.js" data-site="${key}" data-allow-local&gt;&lt;/script&gt;</pre>
<p>Your visit is being recorded as an anonymous visitor: no contact exists yet. Subscribe below and
that visitor becomes a contact, with this page view on its timeline.</p>
<p>The sample site counts automated and headless browsers too (its <code>settings.allow_automation</code>),
so you can script this page. A site you create drops them unless you set that, and the tag skips
<code>localhost</code> unless it carries <code>data-allow-local</code>, as this one does.</p>
<div data-leadline-form="${demo.formId}"></div>
<noscript><p><a href="/f/${demo.formId}/embed?k=${key}&amp;return=${back}">The form without JavaScript</a></p></noscript>
<h2>Then look</h2>
<pre>curl -H "Authorization: Bearer $LEADLINE_KEY" http://HOST/api/v1/contacts
curl -H "Authorization: Bearer $LEADLINE_KEY" http://HOST/api/v1/contacts/ID/events</pre>
<p>Try <a href="/demo?utm_source=newsletter&amp;utm_campaign=demo">this page with UTM parameters</a> in a private window: the
contact's first-touch source shows them.</p>
<p>The samples (site, form <code>${demo.formId}</code>, focus item <code>${demo.focusItemId}</code>) are marked
<code>is_sample</code>; delete them with the API (<code>DELETE /api/v1/sites/…</code>, <code>/forms/…</code>,
<code>/focus-items/…</code>) and this page goes away. API docs: <a href="/docs">/docs</a>.</p>
</body></html>`);
});
