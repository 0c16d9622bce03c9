import type { Ctx } from './context';
import { createSite, getSite } from './tracking/sites';
import { createForm } from './forms/forms';
import { FormInput } from './forms/schema';
import { createFocusItem } from './focus/focus-items';
import { FocusItemInput } from './focus/schema';
import { NotFoundError } from './errors';

const KEY = 'demo_samples';

interface DemoState {
  site_id: number;
  form_id: number;
  focus_item_id: number;
}

/**
 * On the first start of an empty installation: a sample site, form and focus
 * item behind /demo, so a newcomer can watch a visitor become a contact
 * without writing HTML. Marked as samples; deleting them is for good (the
 * flag stays, so they are not created again).
 */
export async function seedDemo({ ctx, input }: { ctx: Ctx; input: { origins: string[] } }): Promise<DemoState | null> {
  const flag = await ctx.client.execute({ sql: 'SELECT value FROM app_state WHERE key = ?', args: [KEY] });
  if (flag.rows[0]) return null;
  const existing = await ctx.client.execute('SELECT count(*) AS n FROM sites');
  if (Number(existing.rows[0]!.n) > 0) {
    await ctx.client.execute({ sql: 'INSERT OR IGNORE INTO app_state (key, value) VALUES (?, ?)', args: [KEY, 'skipped'] });
    return null;
  }
  const site = await createSite({
    ctx,
    input: {
      name: 'Demo site (sample)',
      allowed_origins: [...new Set(input.origins)],
      // A local sample is tried as often from a script (Playwright, Puppeteer) as by hand: count
      // automated and headless browsers too, so what /demo says happens does happen. New sites
      // drop them unless they ask for it (README, the script tag).
      settings: { retention_days: 30, allow_automation: true },
      is_sample: true,
    },
  });
  const form = await createForm({
    ctx,
    input: {
      ...FormInput.parse({
        name: 'Newsletter signup (sample)',
        fields: [
          { key: 'email', type: 'email', label: 'Email', maps_to: 'email', required: true, placeholder: 'you@example.com' },
          { key: 'first_name', type: 'text', label: 'First name', maps_to: 'first_name' },
          { key: 'consent', type: 'consent', label: 'Send me the monthly newsletter', required: true },
          { key: 'source', type: 'hidden', source: 'utm_source', maps_to: null },
        ],
        submit_label: 'Subscribe',
        after_submit: { type: 'message', message: 'Thanks! You are now a contact: see GET /api/v1/contacts.' },
        actions: [{ type: 'add_tags', tags: ['newsletter', 'demo'] }],
      }),
      is_sample: true,
    },
  });
  const focus = await createFocusItem({
    ctx,
    input: FocusItemInput.parse({
      name: 'Welcome slide-in (sample)',
      site_id: site.id,
      style: { type: 'slide_in', corner: 'bottom_right' },
      content: { kind: 'notice', heading: 'This is a focus item (sample)', body: 'It appeared after 3 seconds, once per session. Edit or delete it under /api/v1/focus-items.' },
      trigger: { type: 'delay', seconds: 3 },
      targeting: { urls: [{ op: 'starts_with', value: '/demo' }] },
      frequency: { mode: 'once_per_session', stop_after_close: true },
      is_sample: true,
    }),
  });
  const state: DemoState = { site_id: site.id, form_id: form.id, focus_item_id: focus.id };
  await ctx.client.execute({ sql: 'INSERT OR REPLACE INTO app_state (key, value) VALUES (?, ?)', args: [KEY, JSON.stringify(state)] });
  return state;
}

/** What /demo needs: the sample site's public key and form, while they exist. */
export async function demoPage({ ctx }: { ctx: Ctx }): Promise<{ siteKey: string; formId: number; focusItemId: number }> {
  const flag = await ctx.client.execute({ sql: 'SELECT value FROM app_state WHERE key = ?', args: [KEY] });
  const raw = flag.rows[0] ? String(flag.rows[0].value) : null;
  if (!raw || raw === 'skipped') throw new NotFoundError('Demo');
  const state = JSON.parse(raw) as DemoState;
  const site = await getSite({ ctx, input: { id: state.site_id } });
  return { siteKey: site.public_key, formId: state.form_id, focusItemId: state.focus_item_id };
}
