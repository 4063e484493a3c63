import * as React from 'react';

/** A titled part of a details view. */
export function Section(props: { title: string; name: string; children: React.ReactNode }): React.ReactElement {
  return (
    <section className="jp-Artifacts-section" data-section={props.name}>
      <h3>{props.title}</h3>
      {props.children}
    </section>
  );
}
