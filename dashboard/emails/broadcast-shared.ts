// What the broadcast views share: the API's types, status words, paging through a list, segment names.
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { allPages } from '../ui/editing';

export type Broadcast = components['schemas']['Broadcast'];
export type Email = components['schemas']['Email'];
export type Segment = components['schemas']['Segment'];
export type Report = components['schemas']['EmailReport'];

export const STATUS: Record<Broadcast['status'], string> = { draft: 'Draft', scheduled: 'Scheduled', sending: 'Sending', sent: 'Sent', cancelled: 'Cancelled' };

export const every = <T,>(path: '/api/v1/emails' | '/api/v1/segments' | '/api/v1/broadcasts', query: Record<string, string> = {}) =>
  allPages<T>((cursor) => load(api.GET(path, { params: { query: { limit: 100, ...query, ...(cursor ? { cursor } : {}) } } }) as never), 500);

export const names = (ids: number[], segments: Segment[]) => ids.map((id) => segments.find((s) => s.id === id)?.name ?? `segment ${id}`).join(', ');
