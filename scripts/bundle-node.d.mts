export function bundleNode(entryPoint: string, outfile: string): Promise<unknown>;
