// One step of the tree as a card: what kind of step, its name, what it does, the live counts of
// the published version, and the server's errors for it. In the editor the card is a button that
// opens the step's settings.
import type { StepReport } from './data';
import { describeStep, partLabel, stepTitle, STEP_LABELS, ACTION_LABELS, type Lists } from './describe';
import type { Problem, Step } from './model';
import { formatInteger } from '../ui/format';

export interface NodeProps {
  step: Step;
  lists: Lists;
  counts?: StepReport;
  problems?: Problem[];
  selected: boolean;
  /** Absent when the campaign is shown read-only. */
  onSelect?: () => void;
}

export const nodeDomId = (id: string) => `cb-step-${id}`;

export function StepNode({ step, lists, counts, problems, selected, onSelect }: NodeProps) {
  const kind = step.type === 'action' ? `Action · ${ACTION_LABELS[step.action.type] ?? step.action.type}` : STEP_LABELS[step.type];
  const errorsId = `${nodeDomId(step.id)}-errors`;
  const countsId = `${nodeDomId(step.id)}-counts`;
  const body = (
    <>
      <span class="cb-kind">{kind}</span>
      <span class="cb-title">{stepTitle(step)}</span>
      <span class="cb-summary">{describeStep(step, lists)}</span>
    </>
  );
  const described = [counts ? countsId : '', problems?.length ? errorsId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div
      class={`cb-node type-${step.type}${selected ? ' selected' : ''}${problems?.length ? ' has-error' : ''}`}
      id={nodeDomId(step.id)}
      data-step={step.id}
      tabIndex={-1}
    >
      {onSelect ? (
        <button type="button" class="cb-node-main" aria-pressed={selected} aria-describedby={described} onClick={onSelect}>
          {body}
        </button>
      ) : (
        <div class="cb-node-main" aria-describedby={described}>
          {body}
        </div>
      )}
      {counts && <Counts id={countsId} c={counts} />}
      {!!problems?.length && (
        <ul class="cb-errors" id={errorsId}>
          {problems.map((p) => (
            <li>
              <span class="visually-hidden">Problem: </span>
              {p.part ? `${partLabel(p.part)}: ` : ''}
              {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Entered, in it now (pending or waiting), done, and what went wrong, as numbers the test and the eye can read. */
function Counts({ id, c }: { id: string; c: StepReport }) {
  const now = c.pending + c.waiting;
  return (
    <p class="cb-counts" id={id} data-entered={c.entered} data-now={now} data-done={c.completed}>
      <span>
        <strong>{formatInteger(c.entered)}</strong> entered
      </span>
      <span>
        <strong>{formatInteger(now)}</strong> {c.waiting ? 'waiting' : 'here now'}
      </span>
      <span>
        <strong>{formatInteger(c.completed)}</strong> done
      </span>
      {c.skipped > 0 && (
        <span>
          <strong>{formatInteger(c.skipped)}</strong> skipped
        </span>
      )}
      {c.failed > 0 && (
        <span class="bad">
          <strong>{formatInteger(c.failed)}</strong> failed
        </span>
      )}
    </p>
  );
}
