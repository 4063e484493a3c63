/** Where JSON typed in a form goes wrong, as line and column (browsers word and place JSON.parse's errors differently). */

export interface IJsonError {
  line: number;
  column: number;
  message: string;
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number
  ) {
    super(message);
  }
}

/** A scan of JSON that stops at the first mistake, with its offset. */
class Scanner {
  constructor(private readonly text: string) {}

  private pos = 0;

  document(): void {
    this.value();
    this.space();
    if (this.pos < this.text.length) {
      this.fail('unexpected text after the value');
    }
  }

  private fail(message: string): never {
    throw new JsonSyntaxError(message, this.pos);
  }

  private space(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) {
      this.pos++;
    }
  }

  private value(): void {
    this.space();
    const c = this.text[this.pos];
    if (c === '{') {
      this.object();
    } else if (c === '[') {
      this.array();
    } else if (c === '"') {
      this.string();
    } else if (c !== undefined && /[-0-9]/.test(c)) {
      this.number();
    } else {
      const word = /^(true|false|null)\b/.exec(this.text.slice(this.pos));
      if (!word) {
        this.fail(c === "'" ? 'use double quotes (") around text' : c === undefined ? 'the text ends where a value is expected' : 'a value is expected here');
      }
      this.pos += word[0].length;
    }
  }

  private object(): void {
    this.pos++;
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') {
        this.fail(this.text[this.pos] === '}' ? 'remove the comma before }' : 'a key in double quotes is expected here');
      }
      this.string();
      this.space();
      if (this.text[this.pos] !== ':') {
        this.fail("':' is expected after the key");
      }
      this.pos++;
      this.value();
      this.space();
      const c = this.text[this.pos];
      if (c === '}') {
        this.pos++;
        return;
      }
      if (c !== ',') {
        this.fail(c === undefined ? "the text ends before the object's }" : "',' or '}' is expected here");
      }
      this.pos++;
    }
  }

  private array(): void {
    this.pos++;
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.value();
      this.space();
      const c = this.text[this.pos];
      if (c === ']') {
        this.pos++;
        return;
      }
      if (c !== ',') {
        this.fail(c === undefined ? "the text ends before the list's ]" : "',' or ']' is expected here");
      }
      this.pos++;
      this.space();
      if (this.text[this.pos] === ']') {
        this.fail('remove the comma before ]');
      }
    }
  }

  private string(): void {
    const match = /^"(?:[^"\\\n\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(this.text.slice(this.pos));
    if (!match) {
      this.fail('this text has no closing " on its line');
    }
    this.pos += match[0].length;
  }

  private number(): void {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!match) {
      this.fail('this is not a number');
    }
    this.pos += match[0].length;
  }
}

/** The first mistake in a JSON text with its 1-based line and column; null when the text is valid JSON. */
export function jsonError(text: string): IJsonError | null {
  try {
    new Scanner(text).document();
    return null;
  } catch (error) {
    const offset = error instanceof JsonSyntaxError ? error.offset : text.length;
    const before = text.slice(0, offset).split('\n');
    return {
      line: before.length,
      column: before[before.length - 1].length + 1,
      message: error instanceof Error ? error.message : String(error)
    };
  }
}
