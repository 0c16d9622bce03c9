// Colours of something visitors see (a focus item, a variant of it): background, text and
// button, as #rrggbb, with a word when text would be hard to read on its background (WCAG's
// contrast ratio, 4.5:1 for text; the widget writes button labels in white).
import type { ComponentChildren } from 'preact';

export interface Colours {
  background: string;
  text: string;
  button: string;
}

const NAMES: [keyof Colours, string][] = [
  ['background', 'Background'],
  ['text', 'Text'],
  ['button', 'Button'],
];

function luminance(hex: string): number | null {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return null;
  const [r, g, b] = m.slice(1).map((h) => {
    const c = parseInt(h, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG's contrast ratio of two #rrggbb colours (null when one is not such a colour). */
export function contrast(a: string, b: string): number | null {
  const x = luminance(a);
  const y = luminance(b);
  if (x === null || y === null) return null;
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

function warnings(c: Colours): string[] {
  const out: string[] = [];
  const text = contrast(c.text, c.background);
  if (text !== null && text < 4.5) out.push(`Text on this background is hard to read (contrast ${text.toFixed(1)}:1; aim for 4.5:1).`);
  const button = contrast('#ffffff', c.button);
  if (button !== null && button < 4.5) out.push(`The button’s white label is hard to read on this colour (contrast ${button.toFixed(1)}:1; aim for 4.5:1).`);
  return out;
}

/**
 * The three colours. `value` may lack some (a variant changes only some); `base` fills them in
 * for the inputs and the contrast check. errors: the server's message for "background" etc.
 */
export function ColourPanel(props: {
  id: string;
  legend: ComponentChildren;
  value: Partial<Colours>;
  base: Colours;
  onChange: (c: Colours) => void;
  error?: (name: keyof Colours) => string | undefined;
}) {
  const full = { ...props.base, ...props.value };
  const said = warnings(full);
  return (
    <fieldset class="colours">
      <legend>{props.legend}</legend>
      <div class="colour-row">
        {NAMES.map(([k, label]) => {
          const id = `${props.id}-${k}`;
          const err = props.error?.(k);
          return (
            <div class="field colour">
              <label for={id}>{label}</label>
              <input
                id={id}
                type="color"
                value={full[k]}
                aria-invalid={err ? 'true' : undefined}
                aria-describedby={err ? `${id}-error` : undefined}
                onInput={(x) => props.onChange({ ...full, [k]: x.currentTarget.value })}
              />
              <code aria-hidden="true">{full[k]}</code>
              {err && (
                <p class="field-error" id={`${id}-error`}>
                  {err}
                </p>
              )}
            </div>
          );
        })}
      </div>
      {said.map((w) => (
        <p class="hint warning">{w}</p>
      ))}
    </fieldset>
  );
}
