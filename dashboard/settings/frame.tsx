// The Settings sections and the navigation between them. Only sections with a view are listed
// (no dead links): "Users and roles" (its API, /api/v1/users, arrived with sign-in; its view is
// next) and "Webhooks" (its issue is later) are added here, with their routes in main.tsx, when
// their views are built.
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';

export interface SettingsSection {
  href: string;
  label: string;
  about: string;
}

export const SECTIONS: SettingsSection[] = [
  { href: '/app/settings/sites', label: 'Sites', about: 'The sites that carry the script tag: the tag to copy, allowed origins, privacy, and whether hits arrive.' },
  { href: '/app/settings/api-keys', label: 'API keys', about: 'Keys for the REST API, with their scopes; create and revoke them.' },
  { href: '/app/settings/stages', label: 'Stages', about: 'The funnel’s stages in order, and which one makes a lead marketing-qualified.' },
  { href: '/app/settings/points', label: 'Points', about: 'Point rules that score events, and triggers that act when a contact’s score crosses a threshold.' },
  { href: '/app/settings/email', label: 'Email', about: 'Subscription categories contacts can leave one by one, and sending limits per contact.' },
];

export function SettingsFrame(props: { title: string; intro?: ComponentChildren; children: ComponentChildren }) {
  const { path } = useLocation();
  useEffect(() => void (document.title = `${props.title} · Settings · Leadline`), [props.title]);
  return (
    <section class="settings">
      <p class="crumbs">
        <a href="/app/settings">Settings</a>
      </p>
      <h1 tabIndex={-1}>{props.title}</h1>
      <nav class="subnav" aria-label="Settings sections">
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
      {props.intro && <p class="lead">{props.intro}</p>}
      {props.children}
    </section>
  );
}
