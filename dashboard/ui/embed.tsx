// What a marketer pastes on their site: a snippet for the site they choose (its public key in
// it), shown as text and copied exactly. Forms paste a placeholder with the tag; focus items
// need only the tag itself.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { components } from '../api/schema';
import { CopyButton, Field } from './editing';

type Site = components['schemas']['Site'];

export const scriptTag = (key: string) => `<script async src="${location.origin}/w.js" data-site="${key}"></script>`;

export function SnippetBox(props: {
  /** Prefix of the ids inside (one box per page each). */
  id: string;
  title: string;
  sites: Site[];
  /** The site chosen first (its public key); else the first one. */
  site?: string;
  snippet: (siteKey: string) => string;
  /** What the snippet is, for screen readers; and the copy button's label. */
  label: string;
  copy: string;
  intro?: ComponentChildren;
  after?: (siteKey: string) => ComponentChildren;
}) {
  const [site, setSite] = useState(props.site && props.sites.some((s) => s.public_key === props.site) ? props.site : (props.sites[0]?.public_key ?? ''));
  const key = site || 'YOUR_SITE_KEY';
  const text = props.snippet(key);
  return (
    <div class="card stack embed">
      <h2>{props.title}</h2>
      {props.intro}
      {props.sites.length === 0 ? (
        <p class="hint">
          Register a site under <a href="/app/settings/sites">Settings → Sites</a> to get its key.
        </p>
      ) : (
        <Field id={`${props.id}-site`} label="Site">
          {(a) => (
            <select {...a} value={site} onChange={(x) => setSite(x.currentTarget.value)}>
              {props.sites.map((s) => (
                <option value={s.public_key}>{s.name}</option>
              ))}
            </select>
          )}
        </Field>
      )}
      <pre class="snippet" id={`${props.id}-snippet`} tabIndex={0} aria-label={props.label}>
        {text}
      </pre>
      <CopyButton text={text} label={props.copy} target={`${props.id}-snippet`} />
      {props.after?.(key)}
    </div>
  );
}
