import * as React from 'react';

/** A list of [value, label] options where several can be chosen; a line of text when there are none. */
export function MultiSelect(props: {
  name: string;
  value: string[];
  options: [string, string][];
  empty: string;
  onChange: (value: string[]) => void;
}): React.ReactElement {
  if (!props.options.length) {
    return <div className="jp-Artifacts-muted">{props.empty}</div>;
  }
  return (
    <select
      className="jp-mod-styled jp-Artifacts-multi"
      name={props.name}
      multiple
      size={Math.min(5, Math.max(2, props.options.length))}
      value={props.value}
      onChange={event =>
        props.onChange(Array.from(event.target.selectedOptions).map(option => option.value))
      }
    >
      {props.options.map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </select>
  );
}
