/**
 * A WebSocket data message's payload as the kind the caller asked for: what `WebSocket` (the app's
 * side) and the test client's socket both do with `receiveText`, `receiveBytes` and `receiveJson`.
 */

/** How a JSON message travels: as text, or as UTF-8 in a binary message. */
export type JsonMode = 'text' | 'binary';

const decoder = new TextDecoder('utf-8', { fatal: true });

export function asText(data: string | Uint8Array): string {
  if (typeof data !== 'string') throw new TypeError('expected a text message, got a binary one');
  return data;
}

export function asBytes(data: string | Uint8Array): Uint8Array {
  if (typeof data === 'string') throw new TypeError('expected a binary message, got a text one');
  return data;
}

/** Parses the payload as JSON: a text message, or (mode `binary`) UTF-8 in a binary one. */
export function asJson(data: string | Uint8Array, mode: JsonMode): unknown {
  return JSON.parse(mode === 'text' ? asText(data) : decoder.decode(asBytes(data))) as unknown;
}
