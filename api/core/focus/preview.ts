import { z } from 'zod';
import type { Ctx } from '../context';
import { getForm } from '../forms/forms';
import { publicFormOf, type PublicForm } from '../forms/definition';
import { validate } from './focus-items';
import { publicItem, type PublicFocusItem } from './public';
import { FocusItemInput, resolveVariants } from './schema';

/**
 * A draft focus item (the body of POST /api/v1/focus-items, its name optional) as GET /focus
 * would hand it to the widget, once per variant, after the checks a save makes; with the public
 * definition (GET /f/:id) of each form it embeds, so a preview can draw them. Nothing is stored.
 * Forms switched off are previewed too, and listed in inactive_form_ids: visitors would not see
 * a variant showing one.
 */
export const FocusItemPreviewInput = FocusItemInput.partial({ name: true });
export type FocusItemPreviewInput = z.infer<typeof FocusItemPreviewInput>;

export interface FocusPreview {
  items: PublicFocusItem[];
  forms: Record<string, PublicForm>;
  inactive_form_ids: number[];
}

export async function previewFocusItem({ ctx, input }: { ctx: Ctx; input: { id: number; item: FocusItemPreviewInput; baseUrl: string } }): Promise<FocusPreview> {
  const def = await validate(ctx, input.item);
  const items = resolveVariants(def).map((v) => publicItem({ id: input.id, trigger: def.trigger, frequency: def.frequency }, v));
  const forms: FocusPreview['forms'] = {};
  const inactive: number[] = [];
  for (const id of new Set(items.flatMap((i) => (i.content.kind === 'form' ? [i.content.form_id] : [])))) {
    // validate() found each of them.
    const form = await getForm({ ctx, input: { id } });
    forms[id] = publicFormOf(form, { baseUrl: input.baseUrl });
    if (!form.active) inactive.push(id);
  }
  return { items, forms, inactive_form_ids: inactive };
}
