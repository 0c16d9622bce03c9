import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { createContact, deleteContact, listContacts, updateContact } from '../../core/contacts/contacts';
import { exportContactData, getContactDetail } from '../../core/contacts/privacy';
import { Timestamp, download, DeletedSchema, errors, IdParam, json, jsonBody, page, security, type AppEnv } from '../shared';
import { Contact, ContactCompany, ContactDetail, ContactInputSchema, ContactListQuery } from './schemas';

const tags = ['Contacts'];

export const contactRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/contacts',
      operationId: 'createContact',
      tags,
      security,
      summary: 'Create or update a contact',
      description:
        'Emails are unique (trimmed, case-insensitive). When a contact with this email exists it is updated with the given fields and the answer is 200; a new contact answers 201.',
      request: { body: jsonBody(ContactInputSchema) },
      responses: {
        201: json(Contact, 'Created'),
        200: json(Contact, 'A contact with this email existed and was updated'),
        ...errors(415),
      },
    }),
    async (c) => {
      const { contact, created } = await createContact({ ctx: c.get('ctx'), input: c.req.valid('json') });
      return created ? c.json(contact, 201) : c.json(contact, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts',
      operationId: 'listContacts',
      tags,
      security,
      summary: 'List contacts',
      description: 'Cursor-paginated; search by email or name prefix, filter by tag, company, segment, stage or points, sort by created, updated or last active.',
      request: { query: ContactListQuery },
      responses: { 200: json(page(Contact, 'ContactPage'), 'A page of contacts'), ...errors() },
    }),
    async (c) => c.json(await listContacts({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts/{id}',
      operationId: 'getContact',
      tags,
      security,
      summary: 'Get a contact',
      request: { params: IdParam },
      responses: { 200: json(ContactDetail, 'The contact with its companies'), ...errors(404) },
    }),
    async (c) => c.json(await getContactDetail({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/contacts/{id}',
      operationId: 'updateContact',
      tags,
      security,
      summary: 'Update a contact',
      description: 'Only the given fields change; null clears a field; `tags` adds tags. Changing the email to one another contact has answers 409.',
      request: { params: IdParam, body: jsonBody(ContactInputSchema) },
      responses: { 200: json(Contact, 'Updated'), ...errors(404, 409, 415) },
    }),
    async (c) =>
      c.json(await updateContact({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/contacts/{id}',
      operationId: 'deleteContact',
      tags,
      security,
      summary: 'Erase a contact',
      description: 'Deletes the contact and everything stored about it (tags, companies links, do-not-contact entries) in one transaction.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Erased'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteContact({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts/{id}/export',
      operationId: 'exportContactData',
      tags: ['Privacy'],
      security,
      summary: 'Export all data of a contact',
      description: 'Everything stored about one contact as JSON, for a data-subject access request.',
      request: { params: IdParam },
      responses: {
        200: download(
          'application/json',
          'The data, as a file (Content-Disposition: attachment)',
          z.object({ exported_at: Timestamp, contact: Contact, companies: z.array(ContactCompany) }).openapi('ContactExport'),
        ),
        ...errors(404),
      },
    }),
    async (c) => {
      const data = await exportContactData({ ctx: c.get('ctx'), input: c.req.valid('param') });
      c.header('Content-Disposition', `attachment; filename="contact-${data.contact.id}.json"`);
      return c.json(data, 200);
    },
  );
