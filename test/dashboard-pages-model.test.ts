// The landing page editor's model (dashboard/pages/model.ts) without a browser, against the real
// API (makeApp, real migrations): a page with every kind of section opened in the editor and saved
// untouched is the same page; what the inputs hold as typed reaches the server as typed (so it
// names the field), buttons' ids (an A/B goal names them) included; every error the server gives inside a section is shown in that section.
// First: the app registers zod's .openapi() before the route schemas are read.
import { makeApp } from './helpers';
import { describe, expect, it } from 'vitest';
import { bodyOf, draftOf, FIELDS, fingerprint, sectionDraft, strayErrors, where, type Page } from '../dashboard/pages/model';
import { setup } from './pages-helpers';

const EVERY_KIND = (formId: number) => [
  { type: 'hero', heading: 'Pipelines that convert', subheading: 'Live on 12 May', image: 'https://example.com/hero.png', image_alt: 'A pipeline', cta: { label: 'Save my seat', url: '#register', id: 'seat' } },
  { type: 'markdown', markdown: '## What you will learn\n\n- Scoring' },
  { type: 'html', html: '<p>Plain <strong>HTML</strong></p>' },
  { type: 'image', src: 'https://example.com/a.png', alt: 'A chart', width: 640, height: 480, link: '/pricing' },
  { type: 'cta', label: 'Talk to us', url: 'https://example.com/contact', style: 'secondary', id: 'talk' },
  {
    type: 'columns',
    columns: [
      [{ type: 'markdown', markdown: 'Left' }, { type: 'cta', label: 'Go', url: '/go', style: 'primary' }],
      [{ type: 'image', src: 'https://example.com/b.png', alt: '' }, { type: 'form', form_id: formId }],
      [{ type: 'html', html: '<em>third</em>' }],
    ],
  },
  { type: 'form', form_id: formId, heading: 'Register' },
];

describe('the page editor’s draft', () => {
  it('a page with every kind of section, opened and saved untouched, is the same page', async () => {
    const t = await makeApp();
    const { site, form } = await setup(t);
    const created = await t.json('POST', '/api/v1/pages', { site_id: site.id, slug: 'all-kinds', title: 'All kinds', description: 'Every section', og_image: 'https://example.com/og.png', language: 'pt-BR', host: 'pages.example.com', sections: EVERY_KIND(form.id) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const page = created.body as Page;
    const d = draftOf(page);
    expect(d.sections.map((s) => s.type)).toEqual(page.sections.map((s) => s.type));
    const saved = await t.json('PATCH', `/api/v1/pages/${page.id}`, bodyOf(d));
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const { version: v1, updated_at: u1, ...before } = page;
    const { version: v2, updated_at: u2, ...after } = saved.body as Page;
    expect(after).toEqual(before);
    expect(v2).toBe(v1 + 1);
    // What the editor compares to know of unsaved changes: the page as loaded, and as saved, are the same.
    expect(fingerprint(draftOf(saved.body))).toBe(fingerprint(d));
  });

  it('a new page is a hero and a text section for the first site; a hero without a button sends none', () => {
    const d = draftOf(null, '7');
    expect(d.site_id).toBe('7');
    expect(d.sections.map((s) => s.type)).toEqual(['hero', 'markdown']);
    expect(bodyOf(d).sections![0]).toEqual({ type: 'hero', heading: '', image_alt: '' });
    expect(sectionDraft('columns').columns).toHaveLength(2);
  });

  it('text that is not a number goes as typed, and the server names the field it sits in; each error shows in its section', async () => {
    const t = await makeApp();
    const { site, form } = await setup(t);
    const d = draftOf(null, String(site.id));
    d.slug = 'Bad Slug';
    d.title = 'Errors';
    const image = sectionDraft('image');
    image.src = 'https://example.com/x.png';
    image.width = 'wide';
    const cols = sectionDraft('columns');
    cols.columns[1]!.items[0] = { ...cols.columns[1]!.items[0]!, type: 'cta', label: 'Go', url: 'javascript:alert(1)' };
    const hero = d.sections[0]!;
    hero.heading = 'Hi';
    hero.cta_url = '/x';
    const f = sectionDraft('form');
    f.form_id = String(form.id + 100);
    d.sections.push(image, cols, f);
    const r = await t.json('POST', '/api/v1/pages', bodyOf(d));
    expect(r.status).toBe(422);
    const fields: string[] = r.body.error.details.map((x: { field: string }) => x.field);
    expect(fields).toEqual(expect.arrayContaining(['slug', 'sections.0.cta.label', 'sections.2.width', 'sections.3.columns.1.0.url']));
    const byField = Object.fromEntries(r.body.error.details.map((x: { field: string; message: string }) => [x.field, x.message]));
    // Each one is an input's own error (no stray errors left to list), in the section it names.
    d.sections.forEach((s, i) => expect(strayErrors(byField, s, i), `section ${i}`).toEqual([]));
    for (const field of fields.filter((x) => x.startsWith('sections.'))) {
      const [, i, rest] = /^sections\.(\d+)\.(.*)$/.exec(field)!;
      const s = d.sections[Number(i)]!;
      const leaf = /^columns\.(\d+)\.(\d+)\.(.*)$/.exec(rest!);
      expect(leaf ? FIELDS[s.columns[Number(leaf[1])]!.items[Number(leaf[2])]!.type] : FIELDS[s.type], field).toContain(leaf ? leaf[3] : rest);
    }
    // The unknown form is named after the other checks pass.
    d.slug = 'ok';
    hero.cta_label = 'Go';
    image.width = '';
    cols.columns[1]!.items[0]!.url = '/go';
    const again = await t.json('POST', '/api/v1/pages', bodyOf(d));
    expect(again.status).toBe(422);
    expect(again.body.error.details).toEqual([{ field: 'sections.4.form_id', message: `no form with id ${form.id + 100}` }]);
    // An error no input shows is listed in its section, said as a person reads it.
    expect(strayErrors({ 'sections.1.type': 'bad', 'sections.10.x': 'not here' }, d.sections[1]!, 1)).toEqual([['sections.1.type', 'bad']]);
    expect(where('sections.3.columns.1.0.type')).toBe('Column 2, item 1, type');
  });
});
