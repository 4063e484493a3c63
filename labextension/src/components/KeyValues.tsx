import * as React from 'react';

/** An object as a table of keys and values (values that are not text as JSON). */
export function KeyValues(props: { data: Record<string, unknown> | null | undefined }): React.ReactElement {
  const entries = Object.entries(props.data ?? {});
  if (!entries.length) {
    return <div className="jp-Artifacts-muted">None</div>;
  }
  return (
    <table className="jp-Artifacts-kv">
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th>{key}</th>
            <td>{typeof value === 'string' ? value : JSON.stringify(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
