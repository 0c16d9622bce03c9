// Unsaved changes are not lost by leaving: closing or reloading the tab gets the browser's own
// question (beforeunload); a link in the dashboard and the Back and Forward buttons ask first.
// The router (preact-iso) has no hook for this, so its events are caught before it hears them:
// clicks in the capture phase; popstate by a listener added when this module loads, which
// main.tsx imports before the router starts (listeners on window run in the order they were
// added, capture or not, and the page is redrawn between two of them).
import { useEffect, useRef } from 'preact/hooks';

export const LEAVE_QUESTION = 'This page has unsaved changes. Leave without saving them?';

/** The editor that has unsaved changes, if one has: where it stands and whether it still has them. */
let guard: { at: string; dirty: () => boolean; leave: () => void } | null = null;
const here = () => location.pathname + location.search;

addEventListener('popstate', (e) => {
  if (!guard?.dirty() || here() === guard.at) return;
  if (confirm(LEAVE_QUESTION)) return guard.leave();
  // Stay: the router does not hear of it, and the address is this page's again.
  e.stopImmediatePropagation();
  history.pushState(null, '', guard.at);
});

export function useLeaveGuard(dirty: boolean) {
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  useEffect(() => {
    // The editor is made anew for each address (a new page's included), so where it stands is known once.
    const mine = { at: here(), dirty: () => dirtyRef.current, leave: () => void (dirtyRef.current = false) };
    guard = mine;
    const beforeUnload = (e: BeforeUnloadEvent) => {
      if (!dirtyRef.current) return;
      e.preventDefault();
      // Older browsers ask only when returnValue is set.
      e.returnValue = '';
    };
    const click = (e: MouseEvent) => {
      if (!dirtyRef.current || e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
      const a = (e.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
      if (!a || (a.target && a.target !== '_self') || a.hasAttribute('download') || a.origin !== location.origin) return;
      if (a.pathname + a.search === here()) return;
      if (confirm(LEAVE_QUESTION)) mine.leave();
      else {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    addEventListener('beforeunload', beforeUnload);
    addEventListener('click', click, true);
    return () => {
      if (guard === mine) guard = null;
      removeEventListener('beforeunload', beforeUnload);
      removeEventListener('click', click, true);
    };
  }, []);
}
