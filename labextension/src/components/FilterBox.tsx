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
      placeholder="Filter by name, alias or id"
      value={text}
      onChange={event => setText(event.target.value)}
    />
  );
}
