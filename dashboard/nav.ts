// The sections in the header's navigation, in order. Only what exists is listed: a new view
// adds its entry here and its route in main.tsx (Contacts, Segments, Forms, Focus items,
// Emails, Campaigns and Settings come next).
export interface NavItem {
  href: string;
  label: string;
}

export const NAV: NavItem[] = [
  { href: '/app', label: 'Home' },
  { href: '/app/contacts', label: 'Contacts' },
  { href: '/app/segments', label: 'Segments' },
  { href: '/app/forms', label: 'Forms' },
  { href: '/app/focus-items', label: 'Focus items' },
  { href: '/app/reports', label: 'Reports' },
  { href: '/app/settings', label: 'Settings' },
];

/** Whether a nav entry is the current section (Home only for /app itself). */
export const isCurrent = (item: NavItem, path: string) =>
  item.href === '/app' ? path === '/app' || path === '/app/' : path === item.href || path.startsWith(`${item.href}/`);
