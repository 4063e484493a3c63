import { Dialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ApiError } from '../api/request';
import { notifyError } from '../model/notify';
import { focusSelector, FormErrors } from './validation';

/** A form as its fields see it: the value, how to change it, and the errors shown. */
export interface IForm<T> {
  value: T;
  set: (patch: Partial<T>) => void;
  errors: FormErrors;
  /** Leave the dialog for one of the form's `actions` (another dialog, such as a folder picker); it
   * comes back with what the action gives. */
  act: (action: string) => void;
}

/** The keys of a form that hold a value of type V. */
export type KeyOf<T, V> = { [K in keyof T]: T[K] extends V ? K : never }[keyof T] & string;

export type Render<T> = (form: IForm<T>) => React.ReactElement;

/** A dialog body holding a form's value; errors are shown next to their fields. */
class FormBody<T> extends ReactWidget implements Dialog.IBodyWidget<T> {
  constructor(
    private readonly renderForm: Render<T>,
    private value: T,
    private errors: FormErrors,
    private readonly validate: (value: T) => FormErrors,
    private readonly leave: () => void = () => undefined
  ) {
    super();
    this.addClass('jp-Artifacts-form');
  }

  /** The action asked for by the form (the dialog then closed without its OK). */
  action: string | null = null;

  getValue(): T {
    return this.value;
  }

  private act = (action: string): void => {
    this.action = action;
    this.leave();
  };

  private set = (patch: Partial<T>): void => {
    this.value = { ...this.value, ...patch };
    if (Object.keys(this.errors).length) {
      // Once errors are shown they follow the input.
      const formError = this.errors._form;
      this.errors = this.validate(this.value);
      if (formError && !Object.keys(this.errors).length) {
        this.errors = {};
      }
    }
    this.update();
  };

  render(): React.ReactElement {
    const formError = this.errors._form;
    return (
      <div>
        {formError && (
          <div className="jp-Artifacts-formError" role="alert">
            {formError}
          </div>
        )}
        {this.renderForm({ value: this.value, set: this.set, errors: this.errors, act: this.act })}
      </div>
    );
  }
}

/**
 * Show a form until it is valid and the server accepts it. Invalid input and refusals
 * from the server reopen it with the values kept and the errors inline.
 */
export async function showForm<T, R>(options: {
  title: string;
  initial: T;
  okLabel: string;
  render: Render<T>;
  validate: (value: T) => FormErrors;
  submit: (value: T) => Promise<R>;
  /** What the form may leave the dialog for (`form.act(name)`): each gives the value to reopen with. */
  actions?: Record<string, (value: T) => Promise<T>>;
}): Promise<R | null> {
  let value = options.initial;
  let errors: FormErrors = {};
  for (;;) {
    let dialog: Dialog<T> | null = null;
    const body = new FormBody<T>(options.render, value, errors, options.validate, () => dialog?.reject());
    dialog = new Dialog<T>({
      title: options.title,
      body,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: options.okLabel })],
      focusNodeSelector: focusSelector(errors)
    });
    const result = await dialog.launch();
    const action = body.action && options.actions?.[body.action];
    if (action) {
      value = await action(body.getValue());
      continue;
    }
    if (!result.button.accept || result.value === null) {
      return null;
    }
    value = result.value;
    errors = options.validate(value);
    if (Object.keys(errors).length) {
      continue;
    }
    try {
      return await options.submit(value);
    } catch (error) {
      if (error instanceof ApiError && error.status < 500) {
        // Shown once, in the dialog that reopens with what was typed.
        errors = { _form: error.message };
        continue;
      }
      notifyError(error);
      return null;
    }
  }
}
