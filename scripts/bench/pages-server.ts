// The server side of the pages benchmark (scripts/bench/pages.ts builds and forks it), so the load
// generator never shares this event loop: the Node entry's app on a fresh WAL database file with
// one published landing page (hero, Markdown, HTML, a form), and bare Hono routes on a second port
// of this same process (the baselines): /bare answers the page's own bytes as a constant, /tiny a
// small page. Over IPC:
//   → { type: 'ready', appPort, barePort, path, bytes }
//   ← 'stop'  closes both servers and the database, exits
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createClient } from '@libsql/client';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import { nodePublicDeps } from '../../api/entry/node-deps';
import { createCtx } from '../../api/core/context';
import { createForm } from '../../api/core/forms/forms';
import { FormInput } from '../../api/core/forms/schema';
import { createPage, setPublished } from '../../api/core/pages/pages';
import { PageInput } from '../../api/core/pages/schema';
import { createSite } from '../../api/core/tracking/sites';
import { prepareDatabase } from '../../api/db/open';
import { settleDeferred } from '../../api/routes/defer';
import { parseConfig } from '../../api/env';

function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({ port: info.port, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

async function main() {
  const url = process.env.BENCH_DB_URL;
  if (!url?.startsWith('file:')) throw new Error('BENCH_DB_URL must be a file: URL');
  const client = createClient({ url });
  await prepareDatabase(client, url);
  const config = parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'warn', PUBLIC_RATE_LIMIT: '1000000' });
  const ctx = createCtx({ client, config });
  const site = await createSite({ ctx, input: { name: 'Bench shop', allowed_origins: ['https://shop.example.com'], settings: {} } });
  const form = await createForm({
    ctx,
    input: FormInput.parse({
      name: 'Webinar signup',
      fields: [
        { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true },
        { key: 'first_name', label: 'First name', type: 'text', maps_to: 'first_name' },
        { key: 'company', label: 'Company', type: 'text' },
        { key: 'country', label: 'Country', type: 'country' },
      ],
    }),
  });
  const page = await createPage({
    ctx,
    input: PageInput.parse({
      site_id: site.id,
      slug: 'spring-webinar',
      title: 'Spring webinar: pipelines that convert',
      description: 'Forty minutes, three case studies, one template to take away.',
      og_image: 'https://cdn.example.com/og/webinar.png',
      sections: [
        { type: 'hero', heading: 'Pipelines that convert', subheading: 'Live on 12 May, 17:00 CET', image: 'https://cdn.example.com/hero.jpg', image_alt: 'Speakers', cta: { label: 'Save my seat', url: '#register' } },
        { type: 'markdown', markdown: '## What you will learn\n\n- **Scoring** that sales trusts\n- Nurture without spam\n- Reports that close the loop\n\n> "The best hour we spent this quarter." — a past attendee' },
        { type: 'columns', columns: [[{ type: 'html', html: '<h3>Speakers</h3><p>Ada and Grace, <em>ten years</em> of B2B pipelines.</p>' }], [{ type: 'form', form_id: form.id, heading: 'Register' }]] },
        { type: 'cta', label: 'See the agenda', url: 'https://shop.example.com/agenda' },
      ],
    }),
  });
  await setPublished({ ctx, input: { id: page.id, published: true } });
  // As api/entry/node.ts builds it (without compression: the bare route is not compressed either).
  const app = createApp({ ctx, public: nodePublicDeps(config) });

  const appServer = await listen(app.fetch);
  const probe = await fetch(`http://127.0.0.1:${appServer.port}/p/${page.slug}`);
  const PAGE_HTML = await probe.text();
  if (probe.status !== 200) throw new Error(`the page answered ${probe.status}`);
  const bytes = Buffer.byteLength(PAGE_HTML);
  // The baselines: the same page's bytes as a constant (what the budget compares with: the same
  // response for no work), and a tiny page (for scale).
  const TINY_HTML = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bare</title></head><body><main><h1>Bare</h1><p>A bare Hono route.</p></main></body></html>';
  const bare = new Hono();
  bare.get('/bare', (c) => c.html(PAGE_HTML));
  bare.get('/tiny', (c) => c.html(TINY_HTML));
  const bareServer = await listen(bare.fetch);

  const send = (msg: unknown) => process.send?.(msg);
  process.on('message', async (msg: unknown) => {
    if (msg === 'stop') {
      await Promise.all([appServer.close(), bareServer.close()]);
      // Work the requests deferred (the reactions they kicked) finishes before the database closes.
      await settleDeferred();
      client.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', appPort: appServer.port, barePort: bareServer.port, path: `/p/${page.slug}`, bytes, rss: process.memoryUsage.rss() });
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
