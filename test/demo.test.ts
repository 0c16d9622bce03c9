import { describe, it, expect } from 'vitest';
import { makeApp } from './helpers';
import { seedDemo } from '../api/core/demo';

describe('the demo page', () => {
  it('is seeded once on an empty installation, marked as samples, and goes away when they are deleted', async () => {
    const t = await makeApp();
    const state = await seedDemo({ ctx: t.ctx, input: { origins: ['http://localhost'] } });
    expect(state).not.toBeNull();
    expect(await seedDemo({ ctx: t.ctx, input: { origins: ['http://localhost'] } })).toBeNull();
    const site = (await t.json('GET', `/api/v1/sites/${state!.site_id}`)).body;
    expect(site.name).toContain('sample');
    // A local sample: scripted (headless, webdriver) browsers count, as the page says.
    expect(site.settings.allow_automation).toBe(true);
    const form = (await t.json('GET', `/api/v1/forms/${state!.form_id}`)).body;
    expect(form.is_sample).toBe(true);
    const focus = (await t.json('GET', `/api/v1/focus-items/${state!.focus_item_id}`)).body;
    expect(focus.is_sample).toBe(true);

    const page = await t.app.request('http://localhost/demo');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`data-site="${site.public_key}"`);
    expect(html).toContain(`data-leadline-form="${state!.form_id}"`);
    expect(html).toContain('allow_automation');
    // The sample form works for this page's origin.
    const def = await t.app.request(`/f/${state!.form_id}?k=${site.public_key}`, { headers: { origin: 'http://localhost' } });
    expect(def.status).toBe(200);

    await t.json('DELETE', `/api/v1/sites/${state!.site_id}`);
    expect((await t.app.request('/demo')).status).toBe(404);
    expect(await seedDemo({ ctx: t.ctx, input: { origins: ['http://localhost'] } })).toBeNull();
  });

  it('is not seeded into a database that already has sites', async () => {
    const t = await makeApp();
    await t.json('POST', '/api/v1/sites', { name: 'Real site', allowed_origins: ['https://example.com'] });
    expect(await seedDemo({ ctx: t.ctx, input: { origins: ['http://localhost'] } })).toBeNull();
    expect((await t.app.request('/demo')).status).toBe(404);
  });
});
