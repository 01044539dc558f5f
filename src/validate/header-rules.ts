/**
 * What the schemas cannot say about headers and statuses: which bytes may appear. A CR or LF in
 * a header lets whoever controls the value write their own headers or a second response
 * (response splitting); NUL truncates in some peers. Names are HTTP tokens, in lower case as ASGI
 * requires, and never HTTP/2 pseudo headers.
 */
import { ProtocolError, type Direction } from './protocol-error.js';

// RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA. Upper case letters are left out:
// ASGI header names are lower case.
const NAME_BYTE = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_BYTE[c.charCodeAt(0)] = 1;

function nameProblem(name: Uint8Array): string | null {
  if (name.length === 0) return 'is empty';
  if (name[0] === 0x3a) return 'is an HTTP/2 pseudo header, which ASGI does not carry';
  for (let i = 0; i < name.length; i++) {
    const byte = name[i]!;
    if (NAME_BYTE[byte] === 1) continue;
    if (byte >= 0x41 && byte <= 0x5a) return 'must be lower case';
    return `has a byte not allowed in a header name (0x${byte.toString(16).padStart(2, '0')})`;
  }
  return null;
}

function valueProblem(value: Uint8Array): string | null {
  for (let i = 0; i < value.length; i++) {
    const byte = value[i]!;
    if (byte === 0x0d || byte === 0x0a || byte === 0x00) {
      return `has a ${byte === 0 ? 'NUL' : byte === 0x0d ? 'CR' : 'LF'} byte, which would split the header`;
    }
  }
  return null;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Checks each header pair's bytes. Returns the first violation, or null. `field` is where the
 * headers sit in the message (`/headers`), for the error's path.
 */
export function checkHeaders(
  headers: readonly (readonly [Uint8Array, Uint8Array])[],
  direction: Direction,
  type: string,
  field = '/headers',
): ProtocolError | null {
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const badName = nameProblem(name);
    const badValue = badName === null ? valueProblem(value) : null;
    if (badName === null && badValue === null) continue;
    const path = `${field}/${i}/${badName === null ? 1 : 0}`;
    const who = direction === 'send' ? 'app sent' : direction === 'receive' ? 'server sent' : 'server passed';
    const what = badName === null
      ? `value of '${decoder.decode(name)}' ${badValue}`
      : `name ${JSON.stringify(decoder.decode(name))} ${badName}`;
    return new ProtocolError(`${who} invalid '${type}': ${path} header ${what}`, {
      direction, type, path, rule: badName === null ? 'header-value' : 'header-name',
    });
  }
  return null;
}

/** The start's status must be a final one: 1xx responses go through `http.response.early_hint`. */
export function checkFinalStatus(status: number): ProtocolError | null {
  if (status >= 200) return null;
  return new ProtocolError(
    `app sent invalid 'http.response.start': /status ${status} is informational (1xx); a response starts with a final status, and 103 hints go as 'http.response.early_hint'`,
    { direction: 'send', type: 'http.response.start', path: '/status', rule: 'final-status' },
  );
}
