import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { assertStorageKey, type AssetStorage } from '../core/assets/storage';

/**
 * Where uploads go on Node: an `assets` directory beside the database file
 * (./data/assets for the default file:./data/leadline.db), or ./data/assets
 * when the database is remote or in memory.
 */
export function assetsDirFor(databaseUrl: string): string {
  if (databaseUrl.startsWith('file:')) {
    const path = databaseUrl.slice('file:'.length).split('?')[0]!;
    return join(dirname(resolve(path)), 'assets');
  }
  return resolve('data', 'assets');
}

/** Asset bytes as files named by their storage key (checked: no dots, no slashes). */
export function diskStorage(dir: string): AssetStorage {
  const root = resolve(dir);
  const pathOf = (key: string) => {
    assertStorageKey(key);
    return join(root, key);
  };
  let made: Promise<unknown> | undefined;
  return {
    async put(key, bytes) {
      const target = pathOf(key);
      await (made ??= mkdir(root, { recursive: true }));
      // Written aside and renamed, so a crash never leaves half a file under the key.
      const tmp = join(root, `.tmp-${randomBytes(8).toString('hex')}`);
      try {
        await writeFile(tmp, bytes);
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    },
    async get(key) {
      const path = pathOf(key);
      let size: number;
      try {
        const s = await stat(path);
        if (!s.isFile()) return null;
        size = s.size;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
      return { body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>, size };
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
