// The widget's client validation (widgets/chunk/validate.ts) must say what the server says
// (api/core/forms/values.ts), for every field type: same verdict, same words.
import { describe, expect, it } from 'vitest';
import { checkSubmission } from '../api/core/forms/values';
import { publicField } from '../api/core/forms/definition';
import type { FormField } from '../api/core/forms/schema';
import { check } from '../widgets/chunk/validate';
import type { Field } from '../widgets/chunk/types';

const field = (f: Partial<FormField> & Pick<FormField, 'key' | 'type'>): FormField => ({
  label: f.key,
  maps_to: null,
  required: false,
  placeholder: null,
  help: null,
  options: null,
  rules: {},
  default: null,
  source: null,
  ...f,
});
const opts = (...v: string[]) => v.map((value) => ({ value, label: value.toUpperCase() }));

const CASES: [FormField, unknown[]][] = [
  [field({ key: 'email', type: 'email', required: true }), ['', '  ', 'a@b.co', ' ada@example.com ', 'a@b', 'a..b@example.com', 'a b@c.de', `${'x'.repeat(250)}@a.com`]],
  [field({ key: 'tel', type: 'tel' }), ['', '+49 30 1234567', '(030) 123-45/6', 'call me', '12', '+'.repeat(2), '1'.repeat(41)]],
  [field({ key: 'seats', type: 'number', rules: { min: 1, max: 10 } }), ['', '5', '0', '11', '1.5', '1e1', 'abc', '1e16', '-3', ' 7 ', '.5', '5.']],
  [
    field({ key: 'code', type: 'text', required: true, rules: { min_length: 2, max_length: 5, pattern: '[A-Z]+', pattern_message: 'Capitals only, please' } }),
    ['', 'A', 'AB', 'ab', 'ABCDEF', ' ABC '],
  ],
  [field({ key: 'zip', type: 'text', rules: { pattern: '\\d{5}' } }), ['12345', '1234', '123456']],
  [field({ key: 'bio', type: 'textarea' }), ['x'.repeat(10_000), 'x'.repeat(10_001)]],
  [field({ key: 'name', type: 'text' }), ['x'.repeat(255), 'x'.repeat(256)]],
  [field({ key: 'day', type: 'date', rules: { min: '2020-01-01', max: '2030-12-31' } }), ['', '2021-02-28', '2021-02-30', '2019-12-31', '2031-01-01', '2021-2-3', 'soon']],
  [field({ key: 'plan', type: 'select', required: true, options: opts('free', 'pro') }), ['', 'pro', 'gold']],
  [field({ key: 'size', type: 'radio', options: opts('s', 'm') }), ['', 's', 'xl']],
  [field({ key: 'country', type: 'country', required: true }), ['', 'DE', 'FR', 'XX']],
  [field({ key: 'topics', type: 'checkbox_group', required: true, options: opts('a', 'b') }), [[], ['a'], ['a', 'b']]],
  [field({ key: 'agree', type: 'consent', required: true }), [false, true]],
  [field({ key: 'maybe', type: 'consent' }), [false, true]],
];

describe('client validation mirrors the server', () => {
  for (const [server, values] of CASES) {
    it(`${server.type} (${server.key})`, () => {
      // The field as GET /f/:id hands it to the browser.
      const client = publicField(server, undefined) as unknown as Field;
      for (const v of values) {
        const { errors } = checkSubmission([server], { [server.key]: v }, { offered: () => true, pageUrl: null, referrer: null });
        const said = errors[0]?.message;
        expect(check(client, v as never), `${server.type} ${JSON.stringify(v)}`).toBe(said);
      }
    });
  }
});
