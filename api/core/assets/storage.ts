import { randomToken } from '../util/crypto';

/**
 * Where asset bytes live. The entries inject one: local disk under the data
 * directory on Node (api/entry/storage-disk.ts), an R2 bucket on Workers
 * (api/entry/storage-r2.ts). Keys come from newStorageKey() only.
 */
export interface AssetStorage {
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  get(key: string): Promise<{ body: ReadableStream<Uint8Array> | Uint8Array; size: number } | null>;
  /** Removing a key that is not there is not an error. */
  delete(key: string): Promise<void>;
}

// Safe as a file name on any disk and as an object key: no dots, no slashes.
export const STORAGE_KEY_RE = /^[A-Za-z0-9_-]{1,128}$/;

export function newStorageKey(): string {
  return `asset_${randomToken(32)}`;
}

export function assertStorageKey(key: string): void {
  if (!STORAGE_KEY_RE.test(key)) throw new Error(`Refusing unsafe storage key ${JSON.stringify(key.slice(0, 40))}`);
}

/** Keeps bytes in memory: for tests, and a stand-in where nothing else is configured. */
export function memoryStorage(): AssetStorage & { keys(): string[] } {
  const objects = new Map<string, Uint8Array>();
  return {
    async put(key, bytes) {
      assertStorageKey(key);
      objects.set(key, bytes.slice());
    },
    async get(key) {
      assertStorageKey(key);
      const b = objects.get(key);
      return b ? { body: b.slice(), size: b.byteLength } : null;
    },
    async delete(key) {
      assertStorageKey(key);
      objects.delete(key);
    },
    keys: () => [...objects.keys()],
  };
}
