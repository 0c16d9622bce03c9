// Moving and removing items of a list with buttons (the keyboard's way, and a screen reader's):
// the focus follows the moved item, and where it went is announced.
import { useState } from 'preact/hooks';

/** The list with item `i` moved by `by` places. */
export function moved<T>(list: T[], i: number, by: number): T[] {
  const next = [...list];
  const [x] = next.splice(i, 1);
  next.splice(i + by, 0, x!);
  return next;
}

/** After the next render: focus the element `selector` names (the first that is enabled). */
export function focusSoon(...selectors: string[]) {
  requestAnimationFrame(() => {
    for (const s of selectors) {
      const el = document.querySelector<HTMLElement>(s);
      if (el && !(el as HTMLButtonElement).disabled) return el.focus();
    }
  });
}

/** A polite live region and the function that speaks through it. */
export function useAnnouncer(): [preact.JSX.Element, (message: string) => void] {
  const [said, setSaid] = useState('');
  // The same words twice in a row are still announced: a zero-width space makes them new.
  const say = (m: string) => setSaid((prev) => (prev === m ? `${m}\u200b` : m));
  return [
    <p class="sr-only" role="status">
      {said}
    </p>,
    say,
  ];
}

/**
 * Move up / Move down / Remove for item `i` of `count`, named `what` for screen readers
 * ("section 2: Hero"). `uid` marks the buttons, so the focus can find them after a move.
 */
export function ReorderButtons(props: { uid: number; i: number; count: number; what: string; onMove: (by: number) => void; onRemove: () => void; removable?: boolean }) {
  const { uid, i, count, what } = props;
  const move = (by: number) => {
    props.onMove(by);
    // The button pressed, on the moved item; at the top or bottom, its other button.
    const dir = by < 0 ? 'up' : 'down';
    focusSoon(`[data-move="${uid}:${dir}"]`, `[data-move="${uid}:${dir === 'up' ? 'down' : 'up'}"]`);
  };
  return (
    <div class="actions">
      <button type="button" class="secondary small" data-move={`${uid}:up`} disabled={i === 0} onClick={() => move(-1)}>
        Move up<span class="sr-only"> {what}</span>
      </button>
      <button type="button" class="secondary small" data-move={`${uid}:down`} disabled={i === count - 1} onClick={() => move(1)}>
        Move down<span class="sr-only"> {what}</span>
      </button>
      <button type="button" class="secondary small danger-text" disabled={props.removable === false} onClick={props.onRemove}>
        Remove<span class="sr-only"> {what}</span>
      </button>
    </div>
  );
}
