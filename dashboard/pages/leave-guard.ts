// Unsaved changes are not lost by leaving: closing or reloading the tab gets the browser's own
// question (beforeunload); a link in the dashboard and the Back button ask first (the router,
// preact-iso, has no hook for this, so its events are caught before it sees them: clicks in
// the capture phase, popstate by a capturing listener that runs before its own).
import { useEffect, useRef } from 'preact/hooks';

export const LEAVE_QUESTION = 'This page has unsaved changes. Leave without saving them?';

export function useLeaveGuard(dirty: boolean) {
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  useEffect(() => {
    const here = () => location.pathname + location.search;
    // The editor is made anew for each page's address, so where it stands is known once.
    const at = here();
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
      if (confirm(LEAVE_QUESTION)) dirtyRef.current = false;
      else {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    const popState = (e: PopStateEvent) => {
      if (!dirtyRef.current || here() === at) return;
      if (confirm(LEAVE_QUESTION)) {
        dirtyRef.current = false;
        return;
      }
      // Stay: the router does not hear of it, and the address goes back to this page.
      e.stopImmediatePropagation();
      history.pushState(null, '', at);
    };
    addEventListener('beforeunload', beforeUnload);
    addEventListener('click', click, true);
    addEventListener('popstate', popState, true);
    return () => {
      removeEventListener('beforeunload', beforeUnload);
      removeEventListener('click', click, true);
      removeEventListener('popstate', popState, true);
    };
  }, []);
}
