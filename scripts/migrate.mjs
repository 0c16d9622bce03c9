// `npm run migrate [-- --remote]`: bundles scripts/migrate-cli.ts (the app's own migration code,
// TypeScript) for Node and runs it. See that file for what it does.
import { bundleNode } from './bundle-node.mjs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'migrate.mjs');
await bundleNode(join(root, 'scripts', 'migrate-cli.ts'), out);
const { main } = await import(`${pathToFileURL(out).href}?v=${Date.now()}`);
process.exitCode = await main(process.argv.slice(2));
