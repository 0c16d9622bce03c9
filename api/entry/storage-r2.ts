import { assertStorageKey, type AssetStorage } from '../core/assets/storage';

// The part of an R2 bucket binding used here (declared locally: the Workers
// types are not a dependency).
export interface R2BucketLike {
  put(key: string, value: Uint8Array, options?: { httpMetadata?: { contentType?: string } }): Promise<unknown>;
  get(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null>;
  delete(key: string): Promise<void>;
}

export function r2Storage(bucket: R2BucketLike): AssetStorage {
  return {
    async put(key, bytes, contentType) {
      assertStorageKey(key);
      await bucket.put(key, bytes, { httpMetadata: { contentType } });
    },
    async get(key) {
      assertStorageKey(key);
      const obj = await bucket.get(key);
      return obj ? { body: obj.body, size: obj.size } : null;
    },
    async delete(key) {
      assertStorageKey(key);
      await bucket.delete(key);
    },
  };
}

/** The R2 bucket bound as ASSETS (see wrangler.toml), if there is one. */
export function r2StorageFromEnv(env: Record<string, unknown>): AssetStorage | undefined {
  const b = env.ASSETS as Partial<R2BucketLike> | undefined;
  if (!b || typeof b.put !== 'function' || typeof b.get !== 'function' || typeof b.delete !== 'function') return undefined;
  return r2Storage(b as R2BucketLike);
}
