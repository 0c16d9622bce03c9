import openapiTS, { astToString } from 'openapi-typescript';

/** TypeScript declarations (openapi-typescript's `paths`, `components`, `operations`) for an OpenAPI 3.1 document. */
export async function generate(doc) {
  return astToString(await openapiTS(doc));
}
