// An email's (or a broadcast's) report: what became of its sends, and the click map — each link
// of the email, as the server renders it, with the clicks it got, listed and overlaid on the
// message itself.
import { useEffect, useState } from 'preact/hooks';
import { can } from '../access';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { formatInteger } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';
import { rate } from './common';
import { EmailFrame, type FrameInfo } from './frame';

type Report = components['schemas']['EmailReport'];
type LinkStats = Report['links'][number];

const same = (a: string, b: string) => {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
};

export function Stats({ r }: { r: Report }) {
  const skipped = Object.entries(r.skipped.by_reason).filter(([, n]) => n);
  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">Results</h2>
      <div class="kpis email-stats">
      <div class="kpi">
        <h3>Sent</h3>
        <p class="kpi-value" data-stat="sent">
          {formatInteger(r.sent)}
        </p>
        <p class="hint">
          {formatInteger(r.queued)} queued · {formatInteger(r.failed)} failed
        </p>
      </div>
      <div class="kpi">
        <h3>Skipped</h3>
        <p class="kpi-value" data-stat="skipped">
          {formatInteger(r.skipped.total)}
        </p>
        <p class="hint">{skipped.length ? skipped.map(([k, n]) => `${k.replace(/_/g, ' ')}: ${n}`).join(' · ') : 'none'}</p>
      </div>
      <div class="kpi">
        <h3>Delivered</h3>
        <p class="kpi-value">{formatInteger(r.delivered)}</p>
        <p class="hint">
          {rate(r.rates.delivery)} · bounced {formatInteger(r.bounced.total)}
        </p>
      </div>
      <div class="kpi">
        <h3>Opened</h3>
        <p class="kpi-value" data-stat="opened">
          {formatInteger(r.opens.unique.human)}
        </p>
        <p class="hint">
          {rate(r.rates.open.human)} of {r.rates.base} · {formatInteger(r.opens.unique.raw)} with machines
        </p>
      </div>
      <div class="kpi">
        <h3>Clicked</h3>
        <p class="kpi-value" data-stat="clicked">
          {formatInteger(r.clicks.unique.human)}
        </p>
        <p class="hint">
          {rate(r.rates.click.human)} of {r.rates.base} · {formatInteger(r.clicks.unique.raw)} with scanners
        </p>
      </div>
      <div class="kpi">
        <h3>Unsubscribed</h3>
        <p class="kpi-value">{formatInteger(r.unsubscribed)}</p>
        <p class="hint">complaints {formatInteger(r.complained)}</p>
      </div>
      </div>
    </section>
  );
}

/** The links of the rendered email, in order, once each (the unsubscribe and preference links left out). */
function linksOf(doc: Document): string[] {
  const out: string[] = [];
  for (const a of doc.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href')!;
    if (!/^https?:/i.test(href) || /\/u\/preview/.test(href)) continue;
    if (!out.some((h) => same(h, href))) out.push(href);
  }
  return out;
}

export function ClickMap(props: { emailId: number; links: LinkStats[] }) {
  // The preview is a write as far as roles go (it renders on the server): roles that may not change
  // emails get the clicks per link without the message.
  const mayRender = can('emails', 'change');
  const preview = useLoad(
    () => (mayRender ? load(api.POST('/api/v1/emails/{id}/preview', { params: { path: { id: props.emailId } }, body: {} })) : Promise.resolve(null)),
    String(props.emailId),
  );
  const [inEmail, setInEmail] = useState<string[] | null>(mayRender ? null : []);
  const statsOf = (href: string) => props.links.find((l) => same(l.url, href));
  const max = Math.max(1, ...props.links.map((l) => l.clicks.total.raw));

  // The badges follow the counts (a broadcast's page refreshes them while it sends).
  const [doc, setDoc] = useState<Document | null>(null);
  const overlay = (info: FrameInfo) => {
    setDoc(info.doc);
    setInEmail(linksOf(info.doc));
  };
  const linksKey = JSON.stringify(props.links);
  useEffect(() => {
    if (!doc) return;
    doc.querySelectorAll('.ll-click-badge').forEach((b) => b.remove());
    for (const a of doc.querySelectorAll<HTMLAnchorElement>('a[href]')) {
      const href = a.getAttribute('href')!;
      if (!/^https?:/i.test(href) || /\/u\/preview/.test(href)) continue;
      const n = statsOf(href)?.clicks.total.raw ?? 0;
      const badge = doc.createElement('span');
      badge.textContent = `${n} ${n === 1 ? 'click' : 'clicks'}`;
      badge.className = 'll-click-badge';
      Object.assign(badge.style, {
        display: 'inline-block',
        marginLeft: '6px',
        padding: '1px 6px',
        borderRadius: '10px',
        font: 'bold 12px/1.4 system-ui,sans-serif',
        background: n ? '#b3261e' : '#555555',
        color: '#ffffff',
        verticalAlign: 'middle',
        textDecoration: 'none',
      });
      a.after(badge);
    }
  }, [doc, linksKey]);

  const listed = inEmail ?? [];
  const elsewhere = props.links.filter((l) => !listed.some((h) => same(h, l.url)));
  return (
    <section aria-labelledby="clickmap-heading" class="click-map">
      <h2 id="clickmap-heading">Click map</h2>
      <p class="lead">Each link in the email with its clicks: all clicks (people’s and link scanners’), and the messages a person clicked it in.</p>
      {preview.state === 'loading' && <Loading what="the email" />}
      {preview.state === 'error' && <ErrorMessage message={preview.message} retry={preview.retry} />}
      {preview.state === 'done' && (
        <>
          <div class="table-wrap" role="region" aria-label="Clicks per link" tabIndex={0}>
            <table class="click-table">
              <thead>
                <tr>
                  <th scope="col">Link</th>
                  <th scope="col" class="num">
                    Clicks
                  </th>
                  <th scope="col" class="num">
                    People
                  </th>
                  <th scope="col">
                    <span class="sr-only">Share</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {[...listed.map((h) => ({ url: h, s: statsOf(h), inEmail: true })), ...elsewhere.map((l) => ({ url: l.url, s: l, inEmail: false }))].map(({ url, s, inEmail: here }) => (
                  <tr data-url={url}>
                    <th scope="row" class="url">
                      {url}
                      {!here && <span class="hint block">not in the email as it is now (personalised, or since changed)</span>}
                    </th>
                    <td class="num" data-clicks={s ? s.clicks.total.raw : 0}>
                      {formatInteger(s ? s.clicks.total.raw : 0)}
                    </td>
                    <td class="num">{formatInteger(s ? s.clicks.unique.human : 0)}</td>
                    <td>
                      <span class="bar" aria-hidden="true">
                        <span ref={(el) => void (el && (el.style.width = `${((s ? s.clicks.total.raw : 0) / max) * 100}%`))} />
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {listed.length === 0 && elsewhere.length === 0 && inEmail !== null && <Empty title="This email has no links to click." />}
          {preview.data && (
            <>
              <h3>On the email</h3>
              <EmailFrame html={preview.data.html} title="The email with its clicks per link" onReady={overlay} />
            </>
          )}
        </>
      )}
    </section>
  );
}
