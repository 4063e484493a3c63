import * as React from 'react';

import type { IChoice } from '../../model/groups';
import type { IForm, KeyOf } from '../form';

function Choices(props: { name: string; choices: IChoice[]; chosen: string[]; onToggle: (value: string) => void }): React.ReactElement {
  return (
    <ul className="jp-Artifacts-choices">
      {props.choices.map(c => (
        <li key={c.value}>
          <label>
            <input
              type="checkbox"
              name={props.name}
              value={c.value}
              checked={props.chosen.includes(c.value)}
              onChange={() => props.onToggle(c.value)}
            />
            {c.label}
          </label>
        </li>
      ))}
    </ul>
  );
}

/**
 * References to choose, each a checkbox (no Ctrl-click): the user's own first, with each alias as a
 * choice of its own, then what jobs made, folded away; a filter when the list is long.
 */
export function ReferencePicker<T>(props: {
  form: IForm<T>;
  name: KeyOf<T, string[]>;
  label: string;
  mine: IChoice[];
  fromJobs: IChoice[];
  empty: string;
}): React.ReactElement {
  const { form, name } = props;
  const [filter, setFilter] = React.useState('');
  const chosen = form.value[name] as string[];
  const toggle = (value: string) =>
    form.set({ [name]: chosen.includes(value) ? chosen.filter(v => v !== value) : [...chosen, value] } as Partial<T>);
  const matches = (c: IChoice) => !filter || c.label.toLowerCase().includes(filter.toLowerCase());
  const [mine, fromJobs] = [props.mine.filter(matches), props.fromJobs.filter(matches)];
  const total = props.mine.length + props.fromJobs.length;
  const chosenFromJobs = chosen.filter(v => props.fromJobs.some(c => c.value === v)).length;
  return (
    <fieldset className="jp-Artifacts-field jp-Artifacts-picker" data-field={name}>
      <legend className="jp-Artifacts-fieldLabel">{props.label}</legend>
      {total === 0 ? (
        <div className="jp-Artifacts-muted">{props.empty}</div>
      ) : (
        <>
          {total > 8 && (
            <input
              className="jp-mod-styled jp-Artifacts-pickerFilter"
              type="search"
              aria-label={`Filter the ${props.label.toLowerCase()}`}
              placeholder="Filter"
              value={filter}
              onChange={event => setFilter(event.target.value)}
            />
          )}
          {mine.length > 0 && <Choices name={name} choices={mine} chosen={chosen} onToggle={toggle} />}
          {props.mine.length === 0 && <div className="jp-Artifacts-muted">None saved by you.</div>}
          {fromJobs.length > 0 && (
            <details className="jp-Artifacts-pickerJobs" open={chosenFromJobs > 0 || (filter !== '' && !mine.length)}>
              <summary>
                Made by jobs ({props.fromJobs.length}
                {chosenFromJobs ? `, ${chosenFromJobs} chosen` : ''})
              </summary>
              <Choices name={name} choices={fromJobs} chosen={chosen} onToggle={toggle} />
            </details>
          )}
        </>
      )}
      {form.errors[name] && <span className="jp-Artifacts-fieldError">{form.errors[name]}</span>}
    </fieldset>
  );
}
