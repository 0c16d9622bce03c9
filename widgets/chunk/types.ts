// The public JSON the chunk reads: GET /f/:id, POST /f/:id and GET /focus.
// The server documents the source of truth at the top of api/core/forms/public.ts and
// api/core/focus/public.ts; these types follow it (only what the browser uses).

export type FieldType =
  | 'text'
  | 'email'
  | 'tel'
  | 'number'
  | 'textarea'
  | 'select'
  | 'radio'
  | 'checkbox_group'
  | 'country'
  | 'date'
  | 'hidden'
  | 'consent';

export interface Option {
  value: string;
  label: string;
}

export interface Rules {
  /** A full match: new RegExp('^(?:' + pattern + ')$', 'u'). */
  pattern?: string;
  pattern_message?: string;
  min_length?: number;
  max_length?: number;
  /** Numbers for number fields, YYYY-MM-DD for date fields. */
  min?: number | string;
  max?: number | string;
}

export interface Field {
  key: string;
  type: FieldType;
  label: string;
  required?: boolean;
  placeholder?: string;
  help?: string;
  options?: Option[];
  rules?: Rules;
  default?: string | number | boolean | string[];
  /** Prefill: what this browser itself sent to this form last time. */
  value?: string | number | string[];
  /** Hidden fields: where on the host page the value comes from. */
  source?: string;
}

export interface FormDef {
  id: number;
  submit_url: string;
  submit_label: string;
  /** Name of the visually hidden input bots fill in. */
  honeypot: string;
  min_fill_ms: number;
  /** Fields to show, in order, progressive profiling applied. */
  fields: Field[];
}

export type Value = string | string[] | boolean;
export type Values = Record<string, Value>;

export interface SubmitOk {
  ok: true;
  message?: string;
  redirect?: string;
  asset_url?: string;
}

export interface ApiError {
  error: { code: string; message: string; details?: { field?: string; message: string }[] };
}

export interface FocusItem {
  id: number;
  variant: string;
  style: {
    type: 'bar' | 'modal' | 'slide_in' | 'full_screen';
    /** Bars: top or bottom, sticky or scrolling away with the page. */
    position?: 'top' | 'bottom';
    sticky?: boolean;
    /** Slide-ins: bottom_right, bottom_left, top_right or top_left. */
    corner?: string;
    /** #rrggbb: background, text, button. */
    colors?: Record<string, string>;
  };
  content: {
    kind: 'notice' | 'link' | 'form';
    heading?: string;
    body?: string;
    cta?: { label: string; url: string };
    form_id?: number;
  };
  trigger: {
    type: 'load' | 'delay' | 'scroll' | 'exit_intent' | 'click' | 'pageviews';
    seconds?: number;
    percent?: number;
    selector?: string;
    count?: number;
  };
  frequency: {
    mode: 'every_page' | 'once_per_session' | 'every_n_days';
    days?: number | null;
    stop_after_conversion?: boolean;
    stop_after_close?: boolean;
    max_displays?: number | null;
  };
}

/** Slot content from GET /focus (api/core/slots/resolve.ts): text, or [tag, attributes or 0, ...children]. */
export type SlotNode = string | [string, Record<string, string> | 0, ...SlotNode[]];

export interface Slot {
  id: number;
  name: string;
  /** null: no rule holds, the page keeps its own content. */
  variant: string | null;
  content?: SlotNode[];
}

/** GET /focus's answer, as w.js hands it over (a w.js from before hands over the items alone). */
export interface FocusAnswer {
  items: FocusItem[];
  slots?: Slot[];
}
