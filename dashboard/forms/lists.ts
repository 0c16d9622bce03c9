// The lists an editor picks from (sites, segments, files, forms), each read whole; one that
// cannot be read is empty rather than blocking the editor.
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { allPages } from '../ui/editing';

type S = components['schemas'];
export interface Lists {
  sites: S['Site'][];
  segments: S['Segment'][];
  assets: S['Asset'][];
  forms: S['Form'][];
}

type ListPath = '/api/v1/forms' | '/api/v1/sites' | '/api/v1/segments' | '/api/v1/assets' | '/api/v1/focus-items';

export const listAll = <T,>(path: ListPath) =>
  allPages<T>((cursor) => load(api.GET(path, { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }) as never));

export async function loadLists(which: (keyof Lists)[]): Promise<Lists> {
  const get = <K extends keyof Lists>(k: K): Promise<Lists[K]> => (which.includes(k) ? listAll<Lists[K][number]>(`/api/v1/${k}`).catch(() => []) : Promise.resolve([])) as Promise<Lists[K]>;
  const [sites, segments, assets, forms] = await Promise.all([get('sites'), get('segments'), get('assets'), get('forms')]);
  return { sites, segments, assets, forms };
}
