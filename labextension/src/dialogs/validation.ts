/** What every form checks: names and aliases as the store accepts them, and where the cursor goes. */

/** Errors by field name; `_form` is a refusal from the server, shown above the fields. */
export type FormErrors = Partial<Record<string, string>>;

/** Where the cursor goes when a form opens: the first field with an error, else the first field. */
export function focusSelector(errors: FormErrors): string {
  const field = Object.keys(errors).find(key => key !== '_form');
  return field ? `[name="${field}"]` : 'input, select, textarea';
}

/** Names: what the store accepts (letters, digits, spaces, '-', '_', '.'; at most 200). */
export const NAME_RE = /^[A-Za-z0-9 _.-]{1,200}$/;
export const ALIAS_RE = /^[A-Za-z0-9_.-]{1,100}$/;

export function validateName(name: string): string | undefined {
  if (!name.trim()) {
    return 'Give a name.';
  }
  if (name.includes('/') || name.includes(':')) {
    return "A name cannot contain '/' or ':'.";
  }
  if (name.trim() !== name) {
    return 'A name cannot start or end with a space.';
  }
  if (!NAME_RE.test(name) || name === '.' || name === '..') {
    return "Use letters, digits, spaces, '-', '_' and '.' (at most 200 characters).";
  }
  return undefined;
}

export function validateAlias(alias: string): string | undefined {
  if (!ALIAS_RE.test(alias) || alias === 'latest' || /^v\d+$/.test(alias)) {
    return "An alias may hold letters, digits, '-', '_' and '.', and cannot be 'latest' or look like a version (v3).";
  }
  return undefined;
}
