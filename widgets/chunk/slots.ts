// Slots (dynamic web content): fills `<div data-leadline-slot="NAME">` with what GET /focus chose
// for this visitor (api/core/slots/resolve.ts), at once when the answer arrives: the page's own
// content stays until then and is swapped in one go, in the same frame. The server sends the
// sanitised content as a tree, built here with createElement, setAttribute and text nodes: no
// HTML parsing, so nothing a strict CSP or Trusted Types forbids, and no script can run.
import { d, track } from './util';
import type { Slot, SlotNode } from './types';

const SEL = '[data-leadline-slot]';
// The last page view's slots; the elements done for it and the slots whose view it counted.
let slots: Slot[] = [];
let done = new WeakSet<Element>();
let seen = new Set<number>();

const build = (n: SlotNode): Node | string => {
  if (typeof n == 'string') return n;
  const [tag, attrs, ...kids] = n;
  const el = d.createElement(tag);
  // The server allows no handlers or styles; refusing them here too costs a few bytes.
  for (const k in attrs || {}) if (!/^(on|style)/i.test(k)) el.setAttribute(k, (attrs as Record<string, string>)[k]!);
  el.append(...kids.map(build));
  return el;
};

const slotOf = (el: Element | null) => el && slots.find((s) => s.name == el.getAttribute('data-leadline-slot'));
const props = (s: Slot) => ({ slot_id: s.id, slot: s.name, variant: s.variant || 'default' });

/** Fills the slot elements not done for this page view (also those a single-page app adds later). */
export function fill() {
  for (const el of d.querySelectorAll(SEL)) {
    const s = slotOf(el);
    if (!s || done.has(el)) continue;
    done.add(el);
    if (s.content) {
      const next = el.cloneNode() as Element;
      next.append(...s.content.map(build));
      // Only content that differs from what the element shows replaces it.
      if (!next.isEqualNode(el)) el.replaceChildren(...next.childNodes);
    }
    if (!seen.has(s.id)) seen.add(s.id), track('sv', props(s));
  }
}

/** A page view's slots: each shown slot counts a view again. */
export function setSlots(list: Slot[]) {
  slots = list;
  done = new WeakSet();
  seen = new Set();
  fill();
}

// A click anywhere inside a filled slot (capture: the page cannot stop it).
addEventListener(
  'click',
  (e) => {
    const el = (e.target as Element).closest?.(SEL);
    const s = el && done.has(el) && slotOf(el);
    if (s) track('sc', props(s));
  },
  true,
);
