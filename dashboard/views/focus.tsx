// Focus items: placeholder until the editor is built (issue 13). The live preview it needs is
// ready: preview/widget-preview.tsx with a { type: 'focus', item, forms, answer } message and
// fresh = true (a new page per change, so the trigger and display rules start over).
import { useEffect } from 'preact/hooks';

export default function FocusItems() {
  useEffect(() => void (document.title = 'Focus items · Leadline'), []);
  return (
    <section>
      <h1 tabIndex={-1}>Focus items</h1>
      <p class="lead">
        The focus item editor is not built yet. Bars, pop-ups and slide-ins can be managed through the API: <code>/api/v1/focus-items</code> (see{' '}
        <a href="/docs">the API reference</a>), with their statistics in <a href="/app/reports/focus-items">the focus items report</a>.
      </p>
    </section>
  );
}
