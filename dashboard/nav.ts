// The sections in the header's navigation, in order. Only what exists is listed: a new view
// adds its entry here and its route in main.tsx (Forms, Focus items, Emails and Campaigns come
// next). `need` hides an entry from roles that cannot use it (dashboard/access.ts).
import type { Action, Area } from './access';

export interface NavItem {
  href: string;
  label: string;
  need?: [Area, Action];
}

export const NAV: NavItem[] = [
  { href: '/app', label: 'Home' },
  { href: '/app/contacts', label: 'Contacts' },
  { href: '/app/segments', label: 'Segments' },
  { href: '/app/forms', label: 'Forms' },
  { href: '/app/focus-items', label: 'Focus items' },
  { href: '/app/emails', label: 'Emails' },
  { href: '/app/reports', label: 'Reports' },
  // Every section of Settings changes something only marketers and admins may change.
  { href: '/app/settings', label: 'Settings', need: ['settings', 'change'] },
];

/** Whether a nav entry is the current section (Home only for /app itself). */
export const isCurrent = (item: NavItem, path: string) =>
  item.href === '/app' ? path === '/app' || path === '/app/' : path === item.href || path.startsWith(`${item.href}/`);
