// Kept equal to package.json's version (a test checks), so both runtimes can report it.
export const VERSION = '0.1.0';
