import * as React from 'react';

/** A drop-down of [value, label] options. */
export function Select(props: {
  name: string;
  value: string;
  options: [string, string][];
  onChange: (value: string) => void;
}): React.ReactElement {
  return (
    <select
      className="jp-mod-styled"
      name={props.name}
      value={props.value}
      onChange={event => props.onChange(event.target.value)}
    >
      {props.options.map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </select>
  );
}
