import * as React from 'react';

import type { ArtifactListModel } from '../model/artifacts';

/** The filter of an artifact list, applied a moment after typing stops. */
export function FilterBox(props: { model: ArtifactListModel }): React.ReactElement {
  const { model } = props;
  const [text, setText] = React.useState(model.filter);
  React.useEffect(() => setText(model.filter), [model.kind]);
  React.useEffect(() => {
    if (text === model.filter) {
      return;
    }
    const timer = setTimeout(() => model.setFilter(text), 250);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <input
      className="jp-mod-styled jp-Artifacts-filter"
      type="search"
      aria-label="Filter by name, alias, id or reference (name:v2, name:best)"
      title="A part of a name, an alias, an id, or a reference such as name:v2 or name:best"
      placeholder="Filter"
      value={text}
      onChange={event => setText(event.target.value)}
    />
  );
}
