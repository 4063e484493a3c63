import * as React from 'react';

import type { IForm, KeyOf } from '../form';
import { Field } from './Field';

/** A drop-down of [value, label] options bound to a text value of a form (`patch`: what else a choice changes). */
export function SelectField<T>(props: {
  form: IForm<T>;
  name: KeyOf<T, string>;
  label: string;
  options: [string, string][];
  hint?: string;
  patch?: (value: string) => Partial<T>;
}): React.ReactElement {
  const { form, name } = props;
  const patch = props.patch ?? ((value: string) => ({ [name]: value }) as Partial<T>);
  return (
    <Field label={props.label} name={name} error={form.errors[name]} hint={props.hint}>
      <select
        className="jp-mod-styled"
        name={name}
        value={form.value[name] as string}
        onChange={event => form.set(patch(event.target.value))}
      >
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </Field>
  );
}
