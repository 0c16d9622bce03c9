// What the campaign views read from the server besides the campaign: the lists the pickers offer,
// and the live report (per-step counts), refreshed while the page is in view.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { allPages } from '../ui/editing';
import type { Lists } from './describe';

export type Campaign = components['schemas']['Campaign'];
export type Report = components['schemas']['CampaignReport'];
export type StepReport = Report['steps'][number];

type ListPath = '/api/v1/segments' | '/api/v1/emails' | '/api/v1/forms' | '/api/v1/stages' | '/api/v1/assets' | '/api/v1/campaigns' | '/api/v1/tags' | '/api/v1/fields';

export const listAll = <T,>(path: ListPath, max = 1000) =>
  allPages<T>((cursor) => load(api.GET(path, { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }) as never), max);

/** Every list a picker needs; one that fails leaves its picker with what the definition names. */
export async function loadLists(): Promise<Lists> {
  const get = <T,>(p: Promise<T[]>): Promise<T[]> => p.catch(() => []);
  const [emails, segments, forms, stages, assets, campaigns, tags, fields] = await Promise.all([
    get(listAll<components['schemas']['Email']>('/api/v1/emails')),
    get(listAll<components['schemas']['Segment']>('/api/v1/segments')),
    get(listAll<components['schemas']['Form']>('/api/v1/forms')),
    get(listAll<components['schemas']['Stage']>('/api/v1/stages')),
    get(listAll<components['schemas']['Asset']>('/api/v1/assets')),
    get(listAll<Campaign>('/api/v1/campaigns')),
    get(listAll<components['schemas']['Tag']>('/api/v1/tags', 500)),
    get(listAll<components['schemas']['Field']>('/api/v1/fields')),
  ]);
  return {
    emails: emails.map((e) => ({ id: e.id, name: e.name, kind: e.kind })),
    segments: segments.map((s) => ({ id: s.id, name: s.name })),
    forms: forms.map((f) => ({ id: f.id, name: f.name })),
    stages: stages.map((s) => ({ id: s.id, name: s.name })),
    assets: assets.map((a) => ({ id: a.id, name: a.title || a.filename })),
    campaigns: campaigns.map((c) => ({ id: c.id, name: c.name })),
    tags: tags.map((t) => t.name),
    fields: fields.map((f) => ({ key: f.key, label: f.label, type: f.type, options: f.options ?? null })),
  };
}

export const REFRESH_MS = 5_000;

/**
 * The campaign's report, read again every few seconds while the page is visible and at once when
 * the window gets the focus back; `refresh` reads it now (after a publish or a resume).
 * `null` while there is nothing to count (no published version).
 */
export function useReport(id: number | null, live: boolean): { report: Report | null; error: string | null; refresh: () => void } {
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);
  const refresh = useCallback(() => {
    if (id === null) return;
    const n = ++latest.current;
    load(api.GET('/api/v1/campaigns/{id}/report', { params: { path: { id } } })).then(
      (r) => n === latest.current && (setReport(r), setError(null)),
      (e: unknown) => n === latest.current && setError(e instanceof Error ? e.message : String(e)),
    );
  }, [id]);
  useEffect(() => {
    if (id === null || !live) return;
    refresh();
    const tick = () => document.visibilityState === 'visible' && refresh();
    const timer = setInterval(tick, REFRESH_MS);
    window.addEventListener('focus', refresh);
    document.addEventListener('visibilitychange', tick);
    return () => {
      clearInterval(timer);
      window.removeEventListener('focus', refresh);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [id, live, refresh]);
  return { report, error, refresh };
}
