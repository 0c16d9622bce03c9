// Landing pages: the API (create, read, list, change, publish, delete; 422 and 409) and what
// /p/{slug} renders (sections, head, the tag with the CSP nonce, the no-JS form that really
// creates a contact when posted).
import { describe, expect, it } from 'vitest';
import { expectError, makeApp } from './helpers';
import { count } from './tracking-helpers';
import { get, mkForm, mkPage, setup } from './pages-helpers';

describe('pages API', () => {
  it('creates a draft, reads, lists, changes, publishes, unpublishes and deletes it', async () => {
    const t = await makeApp();
    const { site, form } = await setup(t);
    const created = await t.json('POST', '/api/v1/pages', {
      site_id: site.id,
      slug: 'spring-webinar',
      title: 'Spring webinar',
      description: 'Forty minutes.',
      sections: [{ type: 'markdown', markdown: '# Hello' }, { type: 'form', form_id: form.id }],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ slug: 'spring-webinar', status: 'draft', host: null, language: 'en', og_image: null, path: '/p/spring-webinar', published_at: null, version: 1 });
    const id = created.body.id;
    expect((await t.json('GET', `/api/v1/pages/${id}`)).body.title).toBe('Spring webinar');
    const published = await t.json('POST', `/api/v1/pages/${id}/publish`);
    expect(published.body).toMatchObject({ status: 'published', version: 2 });
    expect(published.body.published_at).toMatch(/^\d{4}-/);
    const changed = await t.json('PATCH', `/api/v1/pages/${id}`, { title: 'Summer webinar', language: 'de' });
    expect(changed.body).toMatchObject({ title: 'Summer webinar', language: 'de', slug: 'spring-webinar', status: 'published', version: 3 });
    await mkPage(t, { site_id: site.id, slug: 'other' });
    const list = await t.json('GET', '/api/v1/pages?status=published');
    expect(list.body.data.map((p: any) => p.id)).toEqual([id]);
    expect((await t.json('GET', '/api/v1/pages?limit=1')).body.has_more).toBe(true);
    expect((await t.json('POST', `/api/v1/pages/${id}/unpublish`)).body.status).toBe('draft');
    expect((await t.json('DELETE', `/api/v1/pages/${id}`)).body).toEqual({ id, deleted: true });
    expectError(await t.json('GET', `/api/v1/pages/${id}`), 404, 'NOT_FOUND');
    expectError(await t.json('POST', `/api/v1/pages/${id}/publish`), 404, 'NOT_FOUND');
  });

  it('refuses bad sections, unknown forms and sites with 422 naming the field, and a taken slug with 409; nothing is written', async () => {
    const t = await makeApp();
    const { site, form } = await setup(t);
    const base = { site_id: site.id, slug: 'offer', title: 'Offer' };
    const bad = async (body: Record<string, unknown>, field: string) => {
      const r = await t.json('POST', '/api/v1/pages', { ...base, ...body });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field)).toContain(field);
    };
    await bad({ sections: [{ type: 'video', url: 'https://x.example' }] }, 'sections.0.type');
    await bad({ sections: [{ type: 'image', src: 'javascript:alert(1)' }] }, 'sections.0.src');
    await bad({ sections: [{ type: 'image', src: 'data:image/png;base64,AAAA' }] }, 'sections.0.src');
    await bad({ sections: [{ type: 'cta', label: 'Go', url: 'javascript:alert(1)' }] }, 'sections.0.url');
    await bad({ sections: [{ type: 'cta', label: 'Go', url: '//evil.example' }] }, 'sections.0.url');
    await bad({ sections: [{ type: 'markdown', markdown: 'x', extra: 1 }] }, 'sections.0.extra');
    await bad({ sections: [{ type: 'columns', columns: [[{ type: 'hero', heading: 'x' }], []] }] }, 'sections.0.columns.0.0.type');
    await bad({ sections: [{ type: 'columns', columns: [[]] }] }, 'sections.0.columns');
    await bad({ sections: Array.from({ length: 51 }, () => ({ type: 'markdown', markdown: 'x' })) }, 'sections');
    await bad({ sections: [{ type: 'form', form_id: 999 }] }, 'sections.0.form_id');
    await bad({ sections: [{ type: 'columns', columns: [[{ type: 'markdown', markdown: 'a' }], [{ type: 'form', form_id: 998 }]] }] }, 'sections.0.columns.1.0.form_id');
    await bad({ site_id: 999 }, 'site_id');
    await bad({ slug: 'Bad Slug' }, 'slug');
    await bad({ slug: '-x' }, 'slug');
    await bad({ host: 'https://a.example/x' }, 'host');
    await bad({ og_image: 'http://' }, 'og_image');
    await bad({ language: 'english!' }, 'language');
    await bad({ title: '' }, 'title');
    expect(await count(t, 'SELECT count(*) AS n FROM pages')).toBe(0);

    const ok = await mkPage(t, { ...base, sections: [{ type: 'form', form_id: form.id }] });
    expectError(await t.json('POST', '/api/v1/pages', base), 409, 'CONFLICT');
    // The same slug on another host's page set is another page.
    expect((await t.json('POST', '/api/v1/pages', { ...base, host: 'a.example' })).status).toBe(201);
    const second = await mkPage(t, { ...base, slug: 'second' });
    expectError(await t.json('PATCH', `/api/v1/pages/${second.id}`, { slug: 'offer' }), 409, 'CONFLICT');
    expectError(await t.json('PATCH', `/api/v1/pages/${ok.id}`, { sections: [{ type: 'form', form_id: 12345 }] }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('PATCH', `/api/v1/pages/${ok.id}`, {}), 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/pages/${ok.id}`)).body.sections).toEqual([{ type: 'form', form_id: form.id }]);
    expect((await t.json('GET', `/api/v1/pages/${second.id}`)).body.slug).toBe('second');
  });
});

describe('GET /p/{slug}', () => {
  it('renders the sections, the head and the tag as static HTML', async () => {
    const t = await makeApp();
    const { site, form } = await setup(t);
    await mkPage(
      t,
      {
        site_id: site.id,
        slug: 'launch',
        title: 'Launch <day>',
        description: 'All about "launch"',
        og_image: 'https://cdn.example.com/og.png',
        language: 'fr',
        sections: [
          { type: 'hero', heading: 'Big launch', subheading: 'Tomorrow', image: 'https://cdn.example.com/hero.jpg', image_alt: 'A rocket', cta: { label: 'Join', url: '#join' } },
          { type: 'markdown', markdown: '## Agenda\n\n- **Talks**\n- [Docs](https://docs.example.com)' },
          { type: 'html', html: '<p class="lead">Hand <em>written</em></p>' },
          { type: 'image', src: 'https://cdn.example.com/a.png', alt: 'Chart', width: 640, height: 480 },
          { type: 'cta', label: 'Buy now', url: 'https://shop.example.com/buy', style: 'secondary' },
          { type: 'columns', columns: [[{ type: 'markdown', markdown: 'Left' }], [{ type: 'form', form_id: form.id, heading: 'Sign up' }]] },
        ],
      },
      true,
    );
    const res = await get(t, '/p/launch');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = res.text;
    expect(html).toMatch(/^<!doctype html><html lang="fr">/);
    expect(html).toContain('<title>Launch &lt;day&gt;</title>');
    expect(html).toContain('<meta name="description" content="All about &quot;launch&quot;">');
    expect(html).toContain('<link rel="canonical" href="http://localhost/p/launch">');
    expect(html).toContain('<meta property="og:image" content="https://cdn.example.com/og.png">');
    expect(html).toContain('<h1>Big launch</h1>');
    expect(html).toContain('<img src="https://cdn.example.com/hero.jpg" alt="A rocket">');
    expect(html).toContain('<h2>Agenda</h2>');
    expect(html).toContain('<strong>Talks</strong>');
    expect(html).toContain('<a href="https://docs.example.com">Docs</a>');
    expect(html).toContain('<p class="lead">Hand <em>written</em></p>');
    expect(html).toContain('<img src="https://cdn.example.com/a.png" alt="Chart" width="640" height="480" loading="lazy">');
    expect(html).toContain('<a class="btn secondary" href="https://shop.example.com/buy">Buy now</a>');
    expect(html).toContain('<div class="cols cols-2">');
    expect(html).toContain('<h2>Sign up</h2>');
    // The tag, with this response's nonce, which the CSP names; no inline handlers, no other script.
    const nonce = /<script async src="http:\/\/localhost\/w\.js" data-site="([^"]+)" nonce="([^"]+)"><\/script>/.exec(html);
    expect(nonce?.[1]).toBe(site.public_key);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain(`script-src 'nonce-${nonce![2]}' http://localhost`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // A fresh nonce and submission id every time, from the same cached page.
    const again = (await get(t, '/p/launch')).text;
    expect(/nonce="([^"]+)"/.exec(again)![1]).not.toBe(nonce![2]);
    const sid = (s: string) => /name="_sid" value="([^"]+)"/.exec(s)![1];
    expect(sid(again)).not.toBe(sid(html));
    expect(sid(html)).toMatch(/^[A-Za-z0-9]{24}$/);
  });

  it('a visitor without JavaScript submits the page’s form to the real form endpoint and becomes a contact', async () => {
    const t = await makeApp();
    const { site, form } = await setup(t);
    await mkPage(t, { site_id: site.id, slug: 'signup', sections: [{ type: 'form', form_id: form.id }] }, true);
    const html = (await get(t, '/p/signup')).text;
    // The placeholder the widget enhances, with the plain form inside.
    expect(html).toContain(`<div data-leadline-form="${form.id}"><form method="post" action="http://localhost/f/${form.id}"`);
    const formHtml = /<form[\s\S]*?<\/form>/.exec(html)![0];
    const action = /action="([^"]+)"/.exec(formHtml)![1]!;
    const fields: [string, string][] = [...formHtml.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]);
    expect(fields.map(([k]) => k)).toEqual(['_k', '_sid', '_ts']);
    expect(fields.find(([k]) => k === '_ts')![1]).toMatch(/^\d+\.[0-9a-f]{32}$/);
    const res = await t.app.request(new URL(action).pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36' },
      body: new URLSearchParams([...fields, ['website', ''], ['email', 'reader@example.com'], ['first_name', 'Rea']]).toString(),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('role="status"');
    const row = (await t.client.execute("SELECT first_name FROM contacts WHERE email = 'reader@example.com'")).rows[0];
    expect(row?.first_name).toBe('Rea');
    expect(await count(t, 'SELECT count(*) AS n FROM form_submissions WHERE form_id = ?', [form.id])).toBe(1);
  });

  it('two forms on one page keep their element ids unique; a form switched off is left out', async () => {
    const t = await makeApp();
    const { site, form } = await setup(t);
    const other = await mkForm(t, { name: 'Other' });
    await mkPage(t, { site_id: site.id, slug: 'two', sections: [{ type: 'form', form_id: form.id }, { type: 'form', form_id: other.id }] }, true);
    const html = (await get(t, '/p/two')).text;
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(4);
    expect(new Set(ids).size).toBe(ids.length);
    expect((await t.json('PATCH', `/api/v1/forms/${other.id}`, { active: false })).status).toBe(200);
    // The form's change reaches the page within the cache's freshness window (FRESH_MS).
    const later = await makeAppLater(t);
    expect(later).not.toContain(`data-leadline-form="${other.id}"`);
    expect(later).toContain(`data-leadline-form="${form.id}"`);
  });
});

/** The page again once the cache's freshness check is due (the clock moved past FRESH_MS). */
async function makeAppLater(t: Awaited<ReturnType<typeof makeApp>>) {
  const realNow = t.ctx.now;
  t.ctx.now = () => realNow() + 5_000;
  try {
    return (await get(t, '/p/two')).text;
  } finally {
    t.ctx.now = realNow;
  }
}
