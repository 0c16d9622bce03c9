import { useEffect, useState } from 'preact/hooks';
import { INTERVALS, PRESETS, daysIn, isDate, presetPeriod, timeZones, type Interval, type Period } from './period';

let zones: string[] | undefined;

/**
 * The period (preset or from/to dates), time zone and, when the report has one, interval.
 * Edits stay local until "Apply", so a half-typed date never starts a request.
 */
export function PeriodPicker(props: {
  id: string;
  period: Period;
  interval?: Interval | null;
  /** Whether to offer the interval (time-series reports); null value means the report's default. */
  withInterval?: boolean;
  busy?: boolean;
  onApply: (period: Period, interval: Interval | null) => void;
  children?: preact.ComponentChildren;
}) {
  const [from, setFrom] = useState(props.period.from);
  const [to, setTo] = useState(props.period.to);
  const [tz, setTz] = useState(props.period.tz);
  const [interval, setInterval] = useState<string>(props.interval ?? '');
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    setFrom(props.period.from);
    setTo(props.period.to);
    setTz(props.period.tz);
    setInterval(props.interval ?? '');
  }, [props.period.from, props.period.to, props.period.tz, props.interval]);

  const preset = PRESETS.find((p) => {
    const q = presetPeriod(p.days, tz);
    return q.from === from && q.to === to;
  });
  const id = (s: string) => `${props.id}-${s}`;

  const submit = (e: Event) => {
    e.preventDefault();
    if (!isDate(from) || !isDate(to)) return setProblem('Enter both dates as YYYY-MM-DD.');
    if (from > to) return setProblem('The start date must not be after the end date.');
    if (daysIn({ from, to }) > 3660) return setProblem('Choose a period of at most ten years.');
    setProblem(null);
    props.onApply({ from, to, tz: tz.trim() || 'UTC' }, (interval || null) as Interval | null);
  };

  return (
    <form class="period" onSubmit={submit} aria-describedby={problem ? id('problem') : undefined}>
      <div class="field">
        <label for={id('preset')}>Period</label>
        <select
          id={id('preset')}
          value={preset?.id ?? 'custom'}
          onChange={(e) => {
            const p = PRESETS.find((x) => x.id === e.currentTarget.value);
            if (!p) return;
            const q = presetPeriod(p.days, tz);
            setFrom(q.from);
            setTo(q.to);
          }}
        >
          {PRESETS.map((p) => (
            <option value={p.id}>{p.label}</option>
          ))}
          <option value="custom">Custom dates</option>
        </select>
      </div>
      <div class="field">
        <label for={id('from')}>From</label>
        <input id={id('from')} type="date" required value={from} max={to} onInput={(e) => setFrom(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={id('to')}>To</label>
        <input id={id('to')} type="date" required value={to} min={from} onInput={(e) => setTo(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={id('tz')}>Time zone</label>
        <input
          id={id('tz')}
          type="text"
          list={id('zones')}
          autocomplete="off"
          spellcheck={false}
          maxLength={64}
          value={tz}
          onFocus={() => (zones ??= timeZones())}
          onInput={(e) => setTz(e.currentTarget.value)}
        />
        <datalist id={id('zones')}>{(zones ?? [props.period.tz]).map((z) => <option value={z} />)}</datalist>
      </div>
      {props.withInterval && (
        <div class="field">
          <label for={id('interval')}>Interval</label>
          <select id={id('interval')} value={interval} onChange={(e) => setInterval(e.currentTarget.value)}>
            <option value="">Report default</option>
            {INTERVALS.map((i) => (
              <option value={i}>{i.charAt(0).toUpperCase() + i.slice(1)}</option>
            ))}
          </select>
        </div>
      )}
      {props.children}
      <div class="field actions">
        <button type="submit" aria-busy={props.busy ? 'true' : undefined}>
          {props.busy ? 'Loading…' : 'Apply'}
        </button>
      </div>
      {problem && (
        <p id={id('problem')} class="field-error" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
