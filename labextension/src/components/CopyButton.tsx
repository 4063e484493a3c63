import { Clipboard, Notification } from '@jupyterlab/apputils';
import * as React from 'react';

/** Copies a reference or an id to the clipboard, and says so. */
export function CopyButton(props: { text: string; label: string; small?: boolean }): React.ReactElement {
  const copy = () => {
    Clipboard.copyToSystem(props.text);
    Notification.info(`Copied ${props.text}.`, { autoClose: 2000 });
  };
  return (
    <button
      className={props.small ? 'jp-Artifacts-linkButton jp-Artifacts-copySmall' : 'jp-Button jp-mod-styled'}
      title={`Copy ${props.text}`}
      onClick={copy}
    >
      {props.label}
    </button>
  );
}
