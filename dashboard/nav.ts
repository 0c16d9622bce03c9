// The sections in the header's navigation, in order. A new section adds its entry here, its route
// in main.tsx and its view in main.tsx's SECTION_VIEWS (fetched ahead when the browser is idle).
// `need` hides an entry from roles that cannot use it (dashboard/access.ts).
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
  { href: '/app/pages', label: 'Pages' },
  // Dynamic web content: the slots on the owner's own pages.
  { href: '/app/slots', label: 'Slots' },
  { href: '/app/emails', label: 'Emails' },
  { href: '/app/campaigns', label: 'Campaigns' },
  { href: '/app/reports', label: 'Reports' },
  // Every section of Settings changes something only marketers and admins may change.
  { href: '/app/settings', label: 'Settings', need: ['settings', 'change'] },
];

/** Whether a nav entry is the current section (Home only for /app itself). */
export const isCurrent = (item: NavItem, path: string) =>
  item.href === '/app' ? path === '/app' || path === '/app/' : path === item.href || path.startsWith(`${item.href}/`);
