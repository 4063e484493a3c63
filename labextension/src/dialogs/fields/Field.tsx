import * as React from 'react';

/** A form field: its label, the input, the accepted forms under it, and its error. */
export function Field(props: {
  label: string;
  name: string;
  error?: string;
  hint?: string;
  children: React.ReactNode;
}): React.ReactElement {
  return (
    <label className="jp-Artifacts-field" data-field={props.name}>
      <span className="jp-Artifacts-fieldLabel">{props.label}</span>
      {props.children}
      {props.hint && <span className="jp-Artifacts-hint">{props.hint}</span>}
      {props.error && <span className="jp-Artifacts-fieldError">{props.error}</span>}
    </label>
  );
}
