// What the public sees of landing pages: drafts are 404 but show through a valid preview link
// (not an expired or changed one), a changed slug answers 301, the sitemap lists the published
// pages at their canonical URLs, a host's page set answers only for that host, and a publish or an
// edit shows on the very next request (the cache is cleared).
import { describe, expect, it } from 'vitest';
import { expectError, makeApp } from './helpers';
import { get, mkPage, setup } from './pages-helpers';

const md = (text: string) => [{ type: 'markdown', markdown: text }];

describe('drafts and preview links', () => {
  it('a draft is 404 publicly, shows through its signed preview link, and not through an expired or tampered one', async () => {
    let now = Date.UTC(2026, 5, 1);
    const t = await makeApp({ now: () => now });
    const { site } = await setup(t);
    const page = await mkPage(t, { site_id: site.id, slug: 'secret-launch', sections: md('Draft **content**') });
    const missing = await get(t, '/p/secret-launch');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('Page not found');
    expect(missing.text).not.toContain('Draft');
    expect(missing.headers.get('content-security-policy')).toContain("default-src 'none'");
    // A client asking for JSON gets the one error shape.
    expectError(await t.json('GET', '/p/secret-launch', undefined, { headers: { accept: 'application/json' } }), 404, 'NOT_FOUND');

    const link = await t.json('POST', `/api/v1/pages/${page.id}/preview-link`, { expires_in: 3600 });
    expect(link.status).toBe(201);
    expect(link.body.url).toMatch(/^http:\/\/localhost\/p\/secret-launch\?preview=\d+\.\d+\.[0-9a-f]{40}$/);
    expect(link.body.expires_at).toBe(new Date(now + 3_600_000).toISOString());
    const path = new URL(link.body.url).pathname + new URL(link.body.url).search;
    const shown = await get(t, path);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('Draft <strong>content</strong>');
    expect(shown.text).toContain('<meta name="robots" content="noindex,nofollow">');
    expect(shown.headers.get('cache-control')).toBe('no-store');
    // The preview shows edits at once and does not make the draft public.
    await t.json('PATCH', `/api/v1/pages/${page.id}`, { sections: md('Second draft') });
    expect((await get(t, path)).text).toContain('Second draft');
    expect((await get(t, '/p/secret-launch')).status).toBe(404);

    const token = link.body.token as string;
    const [id, exp, mac] = token.split('.');
    const flip = (s: string) => s.slice(0, -1) + (s.endsWith('0') ? '1' : '0');
    for (const bad of [`${id}.${exp}.${flip(mac!)}`, `${id}.${Number(exp) + 3600}.${mac}`, `${Number(id) + 1}.${exp}.${mac}`, 'nonsense', '']) {
      const r = await get(t, `/p/secret-launch?preview=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(403);
      expect(r.text).not.toContain('draft');
    }
    now += 3_601_000;
    const expired = await get(t, path);
    expect(expired.status).toBe(403);
    expect(expired.text).toContain('expired');
    expect(expired.text).not.toContain('Second draft');
  });
});

describe('published pages', () => {
  it('publish shows the page on the next request, an edit replaces it at once, unpublish takes it down', async () => {
    const t = await makeApp();
    const { site } = await setup(t);
    const page = await mkPage(t, { site_id: site.id, slug: 'news', sections: md('First version') });
    expect((await get(t, '/p/news')).status).toBe(404);
    await t.json('POST', `/api/v1/pages/${page.id}/publish`);
    expect((await get(t, '/p/news')).text).toContain('First version');
    // Served from the cache now; the edit must not wait for it to go stale.
    expect((await get(t, '/p/news')).text).toContain('First version');
    await t.json('PATCH', `/api/v1/pages/${page.id}`, { sections: md('Second version') });
    const after = (await get(t, '/p/news')).text;
    expect(after).toContain('Second version');
    expect(after).not.toContain('First version');
    await t.json('POST', `/api/v1/pages/${page.id}/unpublish`);
    expect((await get(t, '/p/news')).status).toBe(404);
    await t.json('POST', `/api/v1/pages/${page.id}/publish`);
    expect((await get(t, '/p/news')).status).toBe(200);
    await t.json('DELETE', `/api/v1/pages/${page.id}`);
    expect((await get(t, '/p/news')).status).toBe(404);
  });

  it('another process’s write shows once the cached copy’s freshness check is due', async () => {
    let now = Date.UTC(2026, 5, 1);
    const t = await makeApp({ now: () => now });
    const { site } = await setup(t);
    const page = await mkPage(t, { site_id: site.id, slug: 'shared', sections: md('Old text') }, true);
    expect((await get(t, '/p/shared')).text).toContain('Old text');
    // As another process would: straight to the database, this process's cache not told.
    await t.client.execute({ sql: "UPDATE pages SET sections = ?, version = version + 1 WHERE id = ?", args: [JSON.stringify(md('New text')), page.id] });
    expect((await get(t, '/p/shared')).text).toContain('Old text');
    now += 2_500;
    expect((await get(t, '/p/shared')).text).toContain('New text');
  });

  it('a changed slug answers 301 from the old address (query kept), and the old slug can be taken by another page', async () => {
    const t = await makeApp();
    const { site } = await setup(t);
    const page = await mkPage(t, { site_id: site.id, slug: 'old-name', sections: md('Moved page') }, true);
    await t.json('PATCH', `/api/v1/pages/${page.id}`, { slug: 'new-name' });
    const moved = await get(t, '/p/old-name?utm_source=mail');
    expect(moved.status).toBe(301);
    expect(moved.headers.get('location')).toBe('/p/new-name?utm_source=mail');
    expect((await get(t, '/p/new-name')).text).toContain('Moved page');
    // Renamed again: the first address leads to the newest, no chain.
    await t.json('PATCH', `/api/v1/pages/${page.id}`, { slug: 'newest-name' });
    expect((await get(t, '/p/old-name')).headers.get('location')).toBe('/p/newest-name');
    expect((await get(t, '/p/new-name')).headers.get('location')).toBe('/p/newest-name');
    // Moved to a host of its own: the old address sends browsers there.
    await t.json('PATCH', `/api/v1/pages/${page.id}`, { host: 'go.example.org' });
    expect((await get(t, '/p/newest-name')).headers.get('location')).toBe('https://go.example.org/p/newest-name');
    // A new page may take an old slug; it is then that page, not a redirect.
    await mkPage(t, { site_id: site.id, slug: 'old-name', sections: md('A new page') }, true);
    const taken = await get(t, '/p/old-name');
    expect(taken.status).toBe(200);
    expect(taken.text).toContain('A new page');
    // An unpublished page's old addresses do not reveal it.
    await t.json('POST', `/api/v1/pages/${page.id}/unpublish`);
    expect((await get(t, '/p/new-name')).status).toBe(404);
  });

  it('the sitemap lists only the published pages of the host’s page set, at their canonical URLs', async () => {
    const t = await makeApp();
    const { site } = await setup(t);
    await mkPage(t, { site_id: site.id, slug: 'alpha' }, true);
    await mkPage(t, { site_id: site.id, slug: 'beta' });
    await mkPage(t, { site_id: site.id, slug: 'gamma', host: 'a.example' }, true);
    const own = await get(t, '/sitemap.xml');
    expect(own.status).toBe(200);
    expect(own.headers.get('content-type')).toMatch(/^application\/xml/);
    const locs = (xml: string) => [...xml.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]);
    expect(locs(own.text)).toEqual(['http://localhost/p/alpha']);
    expect(own.text).toMatch(/<lastmod>\d{4}-\d\d-\d\dT/);
    const theirs = await get(t, 'http://a.example/sitemap.xml', { host: 'a.example' });
    expect(locs(theirs.text)).toEqual(['https://a.example/p/gamma']);
    // The canonical link on the page agrees with the sitemap.
    expect((await get(t, 'http://a.example/p/gamma', { host: 'a.example' })).text).toContain('<link rel="canonical" href="https://a.example/p/gamma">');
  });
});

describe('host mapping', () => {
  it('a page set for a.example answers only for that Host, and the server’s own pages not there', async () => {
    const t = await makeApp();
    const { site } = await setup(t);
    await mkPage(t, { site_id: site.id, slug: 'offer', host: 'a.example', sections: md('For A') }, true);
    await mkPage(t, { site_id: site.id, slug: 'offer', host: 'b.example', sections: md('For B') }, true);
    await mkPage(t, { site_id: site.id, slug: 'home', sections: md('Own page') }, true);
    const at = (host: string, path: string) => get(t, `http://${host}${path}`, { host });
    expect((await at('a.example', '/p/offer')).text).toContain('For A');
    expect((await at('A.Example:443', '/p/offer')).text).toContain('For A');
    expect((await at('b.example', '/p/offer')).text).toContain('For B');
    expect((await at('c.example', '/p/offer')).status).toBe(404);
    expect((await at('localhost', '/p/offer')).status).toBe(404);
    expect((await at('localhost', '/p/home')).text).toContain('Own page');
    expect((await at('a.example', '/p/home')).status).toBe(404);
    // Behind a trusted proxy, the host the browser asked for is X-Forwarded-Host.
    const proxied = await makeApp({ env: { TRUST_PROXY: 'true' } });
    const s2 = await setup(proxied);
    await mkPage(proxied, { site_id: s2.site.id, slug: 'offer', host: 'a.example', sections: md('Proxied A') }, true);
    expect((await get(proxied, '/p/offer', { host: 'internal:8787', 'x-forwarded-host': 'a.example' })).text).toContain('Proxied A');
    expect((await get(proxied, '/p/offer', { host: 'internal:8787' })).status).toBe(404);
    // Without a trusted proxy the header is anyone's to forge, so it is ignored.
    expect((await get(t, '/p/offer', { host: 'localhost', 'x-forwarded-host': 'a.example' })).status).toBe(404);
  });
});

describe('limits', () => {
  it('one address past PUBLIC_RATE_LIMIT pages a minute gets 429 with Retry-After', async () => {
    const t = await makeApp({ env: { PUBLIC_RATE_LIMIT: '5' } });
    const { site } = await setup(t);
    await mkPage(t, { site_id: site.id, slug: 'busy', sections: md('Busy') }, true);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await get(t, '/p/busy')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await t.app.request('/p/busy', { headers: { accept: 'application/json' } });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
