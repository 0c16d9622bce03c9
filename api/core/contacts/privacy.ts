import type { Ctx } from '../context';
import { contactCompanies } from '../companies/companies';
import { getContact } from './contacts';

/** Everything stored about one contact, for a data-subject access request. */
export async function exportContactData({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const contact = await getContact({ ctx, input });
  return {
    exported_at: new Date(ctx.now()).toISOString(),
    contact,
    companies: await contactCompanies(ctx, input.id),
  };
}

/** A contact with the companies it belongs to, as GET /contacts/:id shows it. */
export async function getContactDetail({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const contact = await getContact({ ctx, input });
  return { ...contact, companies: await contactCompanies(ctx, input.id) };
}
