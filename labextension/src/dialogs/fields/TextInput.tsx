import * as React from 'react';

/** A one-line text input of a form. */
export function TextInput(props: {
  name: string;
  value: string;
  placeholder?: string;
  onChange: (value: string) => void;
}): React.ReactElement {
  return (
    <input
      className="jp-mod-styled"
      name={props.name}
      value={props.value}
      placeholder={props.placeholder}
      onChange={event => props.onChange(event.target.value)}
    />
  );
}
