// A page's A/B test figures (GET /api/v1/pages/{id}/variants/stats): per variant its weight,
// views, visitors, conversions and rate, and against the original the lift and the significance
// as the server computes it (its method, its p-value and z, significant at its alpha); picking
// the winner ends the test.
import { useState } from 'preact/hooks';
import type { components } from '../api/schema';
import { Confirm, SaveStatus } from '../ui/editing';
import { formatDateTime, formatInteger, formatPercent } from '../ui/format';

export type TestStats = components['schemas']['PageTestStats'];

const pct = (n: number | null | undefined) => (n === null || n === undefined ? '–' : formatPercent(n));
const num = (n: number | null | undefined, digits: number) => (n === null || n === undefined ? '–' : n.toFixed(digits));

export function AbStats(props: {
  stats: TestStats;
  /** Picks a variant (0: the original) as the winner; undefined when the user may not. */
  onPick?: (variantId: number) => void;
  picking: boolean;
  pickStatus: Parameters<typeof SaveStatus>[0]['status'];
  /** Why picking is not possible now (unsaved edits), or undefined. */
  blocked?: string;
}) {
  const s = props.stats;
  const [asking, setAsking] = useState<number | null>(null);
  const running = s.status === 'running';
  const asked = s.variants.find((v) => v.variant_id === asking);
  return (
    <section class="stack" aria-labelledby="ab-stats-heading">
      <h3 id="ab-stats-heading">{running ? 'Results so far' : 'Results of the last test'}</h3>
      <p class="hint">
        Test {s.test_id}, {running ? 'running' : 'ended'} since {formatDateTime(s.started_at)}
        {s.ended_at ? ` until ${formatDateTime(s.ended_at)}` : ''}. Significance (p-value): {s.method} Confidence {s.confidence}%, alpha = {num(s.alpha, 4)}.{' '}
        {s.min_reached ? `Every variant has ${formatInteger(s.min_visitors)} visitors or more.` : `Minimum sample not reached yet: ${formatInteger(s.min_visitors)} visitors per variant.`}
      </p>
      <div class="table-wrap" role="region" aria-label="Results per variant" tabIndex={0}>
        <table class="ab-stats">
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col" class="num">
                Weight
              </th>
              <th scope="col" class="num">
                Views
              </th>
              <th scope="col" class="num">
                Visitors
              </th>
              <th scope="col" class="num">
                Conversions
              </th>
              <th scope="col" class="num">
                Rate
              </th>
              <th scope="col" class="num">
                Lift
              </th>
              <th scope="col" class="num">
                p-value
              </th>
              <th scope="col" class="num">
                z
              </th>
              <th scope="col">Significant</th>
              {running && props.onPick && <th scope="col">Winner</th>}
            </tr>
          </thead>
          <tbody>
            {s.variants.map((v) => {
              const vs = v.versus_control;
              return (
                <tr data-variant={v.variant_id}>
                  <th scope="row">
                    {v.name}
                    {v.control ? ' (original)' : ''}
                    {s.winner?.variant_id === v.variant_id && <span class="badge good"> Winner</span>}
                  </th>
                  <td class="num">{v.weight}%</td>
                  <td class="num">{formatInteger(v.views)}</td>
                  <td class="num">{formatInteger(v.visitors)}</td>
                  <td class="num">{formatInteger(v.conversions)}</td>
                  <td class="num">{pct(v.rate)}</td>
                  <td class="num">{vs ? pct(vs.lift) : '–'}</td>
                  <td class="num">{vs ? num(vs.p_value, 4) : '–'}</td>
                  <td class="num">{vs ? num(vs.z, 2) : '–'}</td>
                  <td>{vs ? (vs.significant ? 'Yes' : 'No') : '–'}</td>
                  {running && props.onPick && (
                    <td>
                      <button type="button" class="secondary small" disabled={props.picking || !!props.blocked} onClick={() => setAsking(v.variant_id)}>
                        Pick as winner<span class="sr-only">: {v.name}</span>
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {props.blocked && running && <p class="hint">{props.blocked}</p>}
      {asked && props.onPick && (
        <Confirm
          question={`Pick “${asked.name}” as the winner? ${asked.control ? 'The page keeps its content' : 'Its title and sections become the page’s'} and the test ends.`}
          yes="Pick winner"
          busy={props.picking}
          onYes={() => {
            setAsking(null);
            props.onPick!(asked.variant_id);
          }}
          onNo={() => setAsking(null)}
        />
      )}
      <SaveStatus status={props.pickStatus} />
    </section>
  );
}
