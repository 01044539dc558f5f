/** Where a protocol violation was found: the scope, a message from `receive()`, or one to `send()`. */
export type Direction = 'scope' | 'receive' | 'send';

export interface ProtocolErrorDetails {
  direction: Direction;
  /** The scope or message `type`, when the value had one. */
  type: string | undefined;
  /** JSON pointer to the offending field; `""` when the message as a whole is out of place. */
  path: string;
  /** The rule broken: a schema keyword (`type`, `required`) or an ordering rule (`order`). */
  rule: string;
}

/**
 * A message or scope that breaks the ASGI protocol. The message reads on one line, naming who
 * sent what and which rule it broke:
 *
 *     app sent invalid 'http.response.start': /status must be an integer (got "200")
 *     app sent 'http.response.body' before 'http.response.start'
 */
export class ProtocolError extends Error implements ProtocolErrorDetails {
  override readonly name = 'ProtocolError';
  readonly direction: Direction;
  readonly type: string | undefined;
  readonly path: string;
  readonly rule: string;

  constructor(message: string, details: ProtocolErrorDetails) {
    super(message);
    this.direction = details.direction;
    this.type = details.type;
    this.path = details.path;
    this.rule = details.rule;
  }
}

/** How a value is quoted in messages: short, one line. */
export function preview(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return String(value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text ??= String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
