// The definition the widget would get for a draft, asked of the server (POST …/preview) a
// moment after the last edit: the server checks the draft as a save would and makes it public
// with the code the public endpoints use, so the preview never drifts from what visitors see.
// A draft the server refuses keeps the last good preview, with the server's reasons beside it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem, type FieldProblem } from '../ui/editing';

export interface ServerPreview<T> {
  /** The last answer for a draft the server accepted (null before the first). */
  data: T | null;
  /** Why the current draft was refused ('' when it was not). */
  message: string;
  problems: FieldProblem[];
  /** A request for the current draft is on its way. */
  pending: boolean;
}

export function useServerPreview<T>(ask: () => Promise<T>, key: string, delay = 300): ServerPreview<T> {
  const [state, setState] = useState<ServerPreview<T>>({ data: null, message: '', problems: [], pending: true });
  const latest = useRef(0);
  const askRef = useRef(ask);
  askRef.current = ask;
  useEffect(() => {
    const n = ++latest.current;
    const timer = setTimeout(async () => {
      setState((s) => (s.pending ? s : { ...s, pending: true }));
      try {
        const data = await askRef.current();
        if (n === latest.current) setState({ data, message: '', problems: [], pending: false });
      } catch (e) {
        const p = e instanceof ApiProblem ? e : new ApiProblem(e instanceof Error ? e.message : String(e));
        if (n === latest.current) setState((s) => ({ data: s.data, message: p.message, problems: p.details, pending: false }));
      }
    }, delay);
    return () => clearTimeout(timer);
  }, [key]);
  return state;
}

/** Why the preview is not the draft as it is now: the server's reasons, as it gave them. */
export function PreviewProblems({ preview, label }: { preview: ServerPreview<unknown>; label: (field: string) => string }) {
  if (!preview.message) return null;
  return (
    <div class="preview-problems" role="status">
      <p>{preview.data ? 'The preview shows the last version that could be shown:' : 'Nothing to preview yet:'} {preview.problems.length ? '' : preview.message}</p>
      {preview.problems.length > 0 && (
        <ul>
          {preview.problems.map((p) => (
            <li>
              {label(p.field)} {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
