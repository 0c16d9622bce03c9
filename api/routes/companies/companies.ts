import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import {
  CompanyInput,
  CompanyPatch,
  createCompany,
  deleteCompany,
  getCompany,
  linkContact,
  listCompanies,
  unlinkContact,
  updateCompany,
} from '../../core/companies/companies';
import { idNumber, Timestamp, DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import { ContactCompany } from '../contacts/schemas';

const tags = ['Companies'];

const Company = z
  .object({
    id: z.number().int(),
    name: z.string(),
    domain: z.string().nullable(),
    website: z.string().nullable(),
    industry: z.string().nullable(),
    employees: z.number().nullable(),
    annual_revenue: z.number().nullable(),
    city: z.string().nullable(),
    country: z.string().nullable(),
    contacts: z.number().openapi({ description: 'Number of linked contacts' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Company');

const LinkParams = IdParam.extend({
  contactId: idNumber().openapi({ param: { name: 'contactId', in: 'path' }, type: 'integer' }),
});

export const companyRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/companies',
      operationId: 'createCompany',
      tags,
      security,
      summary: 'Create a company',
      description: 'Domains are unique: a second company with the same domain answers 409.',
      request: { body: jsonBody(CompanyInput.openapi('CompanyInput')) },
      responses: { 201: json(Company, 'Created'), ...errors(409, 415) },
    }),
    async (c) => c.json(await createCompany({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/companies',
      operationId: 'listCompanies',
      tags,
      security,
      summary: 'List companies',
      request: { query: PageQuery.extend({ q: z.string().trim().min(1).max(100).optional().openapi({ description: 'Prefix of name or domain' }) }) },
      responses: { 200: json(page(Company, 'CompanyPage'), 'A page of companies'), ...errors() },
    }),
    async (c) => c.json(await listCompanies({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/companies/{id}',
      operationId: 'getCompany',
      tags,
      security,
      summary: 'Get a company',
      request: { params: IdParam },
      responses: { 200: json(Company, 'The company'), ...errors(404) },
    }),
    async (c) => c.json(await getCompany({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/companies/{id}',
      operationId: 'updateCompany',
      tags,
      security,
      summary: 'Update a company',
      request: { params: IdParam, body: jsonBody(CompanyPatch.openapi('CompanyPatch')) },
      responses: { 200: json(Company, 'Updated'), ...errors(404, 409, 415) },
    }),
    async (c) => c.json(await updateCompany({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/companies/{id}',
      operationId: 'deleteCompany',
      tags,
      security,
      summary: 'Delete a company',
      description: 'Unlinks its contacts; the contacts themselves stay.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteCompany({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/companies/{id}/contacts/{contactId}',
      operationId: 'linkCompanyContact',
      tags,
      security,
      summary: 'Link a contact to a company',
      description: 'is_primary: true makes this the contact\'s primary company (any other loses the flag). List a company\'s contacts with GET /api/v1/contacts?company_id=ID.',
      request: { params: LinkParams, body: jsonBody(z.strictObject({ is_primary: z.boolean().default(false) })) },
      responses: { 200: json(z.array(ContactCompany), "The contact's companies"), ...errors(404, 415) },
    }),
    async (c) => {
      const { id, contactId } = c.req.valid('param');
      const list = await linkContact({ ctx: c.get('ctx'), input: { companyId: id, contactId, isPrimary: c.req.valid('json').is_primary } });
      return c.json(list, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/companies/{id}/contacts/{contactId}',
      operationId: 'unlinkCompanyContact',
      tags,
      security,
      summary: 'Unlink a contact from a company',
      request: { params: LinkParams },
      responses: { 200: json(z.object({ company_id: z.number().int(), contact_id: z.number().int(), deleted: z.literal(true) }), 'Unlinked'), ...errors(404) },
    }),
    async (c) => {
      const { id, contactId } = c.req.valid('param');
      await unlinkContact({ ctx: c.get('ctx'), input: { companyId: id, contactId } });
      return c.json({ company_id: id, contact_id: contactId, deleted: true as const }, 200);
    },
  );
