// Shared by the Emails, email report and Broadcasts views.
import { useLocation } from 'preact-iso/router';
import type { components } from '../api/schema';
import { formatPercent } from '../ui/format';

export const kindLabel = (k: components['schemas']['Email']['kind']) => ({ template: 'Template', broadcast: 'Broadcast', transactional: 'Transactional' })[k];

/** A rate from a report (a fraction, or null when its base is 0). */
export const rate = (r: number | null) => (r === null ? '—' : formatPercent(r));

const SECTIONS = [
  { href: '/app/emails', label: 'Emails' },
  { href: '/app/broadcasts', label: 'Broadcasts' },
];

export function EmailSubnav() {
  const { path } = useLocation();
  return (
    <nav class="subnav" aria-label="Email sections">
      <ul>
        {SECTIONS.map((s) => (
          <li>
            <a href={s.href} aria-current={path === s.href ? 'page' : undefined}>
              {s.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
