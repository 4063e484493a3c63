import * as React from 'react';

import type { IForm, KeyOf } from '../form';
import { Field } from './Field';

/** A one-line text field bound to a text value of a form. */
export function TextField<T>(props: {
  form: IForm<T>;
  name: KeyOf<T, string>;
  label: string;
  hint?: string;
  placeholder?: string;
}): React.ReactElement {
  const { form, name } = props;
  return (
    <Field label={props.label} name={name} error={form.errors[name]} hint={props.hint}>
      <input
        className="jp-mod-styled"
        name={name}
        value={form.value[name] as string}
        placeholder={props.placeholder}
        onChange={event => form.set({ [name]: event.target.value } as Partial<T>)}
      />
    </Field>
  );
}
