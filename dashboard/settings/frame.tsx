// The Settings sections and the navigation between them. Only sections with a view are listed
// (no dead links: each has its route in main.tsx),
// and only those the signed-in user's role may use (`need`, dashboard/access.ts).
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { can, type Action, type Area } from '../access';

export interface SettingsSection {
  href: string;
  label: string;
  about: string;
  need: [Area, Action];
}

export const SECTIONS: SettingsSection[] = [
  { href: '/app/settings/sites', label: 'Sites', about: 'The sites that carry the script tag: the tag to copy, allowed origins, privacy, and whether hits arrive.', need: ['sites', 'change'] },
  { href: '/app/settings/api-keys', label: 'API keys', about: 'Keys for the REST API, with their scopes; create and revoke them.', need: ['api-keys', 'change'] },
  { href: '/app/settings/stages', label: 'Stages', about: 'The funnel’s stages in order, and which one makes a lead marketing-qualified.', need: ['scoring', 'change'] },
  { href: '/app/settings/points', label: 'Points', about: 'Point rules that score events, and triggers that act when a contact’s score crosses a threshold.', need: ['scoring', 'change'] },
  { href: '/app/settings/email', label: 'Email', about: 'Subscription categories contacts can leave one by one, and sending limits per contact.', need: ['settings', 'change'] },
  { href: '/app/settings/webhooks', label: 'Webhooks', about: 'Endpoints that receive signed events (contacts, forms, segments, email…): their delivery log, test events, replays and secrets.', need: ['webhooks', 'change'] },
  { href: '/app/settings/users', label: 'Users and roles', about: 'Who can sign in to this dashboard, with which role; invite people and change or remove them.', need: ['users', 'change'] },
];

/** The sections this user's role may use. */
export const sectionsFor = () => SECTIONS.filter((s) => can(...s.need));

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
          {sectionsFor().map((s) => (
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
