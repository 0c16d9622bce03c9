import openapiTS, { astToString } from 'openapi-typescript';
export async function generate(doc) {
  return astToString(await openapiTS(doc));
}
