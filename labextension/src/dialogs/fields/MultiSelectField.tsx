import * as React from 'react';

import type { IForm, KeyOf } from '../form';
import { Field } from './Field';

/** A list of [value, label] options, several of which can be chosen, bound to a list value of a form;
 * a line of text (`empty`) when there are none. */
export function MultiSelectField<T>(props: {
  form: IForm<T>;
  name: KeyOf<T, string[]>;
  label: string;
  options: [string, string][];
  empty: string;
}): React.ReactElement {
  const { form, name, options } = props;
  return (
    <Field label={props.label} name={name} error={form.errors[name]}>
      {options.length ? (
        <select
          className="jp-mod-styled jp-Artifacts-multi"
          name={name}
          multiple
          size={Math.min(5, Math.max(2, options.length))}
          value={form.value[name] as string[]}
          onChange={event =>
            form.set({ [name]: Array.from(event.target.selectedOptions).map(option => option.value) } as Partial<T>)
          }
        >
          {options.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      ) : (
        <div className="jp-Artifacts-muted">{props.empty}</div>
      )}
    </Field>
  );
}
