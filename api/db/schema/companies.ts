import { sqliteTable, integer, text, index, primaryKey, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

export const companies = sqliteTable(
  'companies',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    domain: text('domain'),
    website: text('website'),
    industry: text('industry'),
    employees: integer('employees'),
    annualRevenue: integer('annual_revenue'),
    city: text('city'),
    country: text('country'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('companies_domain_uq').on(t.domain).where(sql`domain IS NOT NULL`),
    index('companies_name_idx').on(sql`lower(name)`),
  ],
);

export const companyContacts = sqliteTable(
  'company_contacts',
  {
    companyId: integer('company_id').notNull(),
    contactId: integer('contact_id').notNull(),
    isPrimary: integer('is_primary', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.companyId, t.contactId] }),
    index('company_contacts_contact_idx').on(t.contactId),
    // At most one primary company per contact.
    uniqueIndex('company_contacts_primary_uq').on(t.contactId).where(sql`is_primary = 1`),
  ],
);
