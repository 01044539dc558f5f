/**
 * Text into bytes (UTF-8, or latin-1 for header text), for the many short strings a response is
 * made of.
 *
 * `TextEncoder.encode` gives each result its own `ArrayBuffer`, and for a short string that
 * allocation is most of the cost. Short ASCII text is written instead into a shared slab and
 * handed out as a view of it, as Node's `Buffer.from` does with its pool: each view owns its
 * bytes for good (the slab is only ever written past its end, then replaced), so holding one is
 * safe. Anything longer, or (for UTF-8) not ASCII, takes the ordinary road.
 */
const encoder = new TextEncoder();
const SLAB_SIZE = 64 * 1024;
const SHORT = 256;
let slab = new Uint8Array(SLAB_SIZE);
let used = 0;

/** Room for `length` bytes in the slab; returns where they start. */
function reserve(length: number): number {
  if (used + length > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  return used;
}

export function encodeUtf8(text: string): Uint8Array {
  const length = text.length;
  if (length > SHORT) return encoder.encode(text);
  const start = reserve(length);
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return encoder.encode(text);
    slab[start + i] = code;
  }
  used = start + length;
  return slab.subarray(start, used);
}

/** Latin-1 text (one byte per character, as header names and values are) into bytes. */
export function encodeLatin1Short(text: string): Uint8Array {
  const length = text.length;
  if (length > SHORT) {
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  const start = reserve(length);
  for (let i = 0; i < length; i++) slab[start + i] = text.charCodeAt(i);
  used = start + length;
  return slab.subarray(start, used);
}
