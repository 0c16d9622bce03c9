/** TypeScript declarations (openapi-typescript's `paths`, `components`, `operations`) for an OpenAPI 3.1 document. */
export function generate(doc: object): Promise<string>;
