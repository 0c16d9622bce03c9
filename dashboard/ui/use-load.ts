import { useCallback, useLayoutEffect, useRef, useState } from 'preact/hooks';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; data: T };

/**
 * Loads `load()` whenever `key` changes; an answer to an older key is dropped (a slow first
 * request must not overwrite a newer one). `retry` loads again.
 */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> & { retry: () => void } {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const latest = useRef(0);
  // A layout effect: the request leaves as the view is committed, not a frame later after it is painted.
  useLayoutEffect(() => {
    const n = ++latest.current;
    setResult({ state: 'loading' });
    load().then(
      (data) => n === latest.current && setResult({ state: 'done', data }),
      (e: unknown) => n === latest.current && setResult({ state: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
    // `load` is a new function each render; `key` says when it means something new.
  }, [key, attempt]);
  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  return { ...result, retry };
}
