import { z } from 'zod';
import type { Ctx } from '../context';
import { publicFormOf, type PublicForm } from './definition';
import { checkDefinition, FormInput } from './schema';

/**
 * A draft form (the body of POST /api/v1/forms, its name optional: a preview needs none) as the
 * widget would receive it from GET /f/:id: checked exactly as on save, then made public by the
 * same function the public endpoint uses, for a first-time visitor. Nothing is stored.
 */
export const FormPreviewInput = FormInput.partial({ name: true });
export type FormPreviewInput = z.infer<typeof FormPreviewInput>;

export async function previewForm({ ctx, input }: { ctx: Ctx; input: { id: number; form: FormPreviewInput; baseUrl: string } }): Promise<PublicForm> {
  const d = await checkDefinition(ctx, input.form);
  return publicFormOf({ id: input.id, ...d }, { baseUrl: input.baseUrl });
}
