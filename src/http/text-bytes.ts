/**
 * Text into bytes (UTF-8, or latin-1 for header text), for the many short strings a response is
 * made of.
 *
 * `TextEncoder.encode` is a call into C++ that gives each result a buffer outside V8's heap; for a
 * short string that is most of the cost. V8 keeps a typed array of up to 64 bytes inside its own
 * heap, where allocating it is as cheap as any small object, so short text is copied into one in
 * JavaScript. Every result owns its own buffer, as `TextEncoder`'s do.
 */
const encoder = new TextEncoder();
/** V8's `typed_array_max_size_in_heap`. */
const ON_HEAP = 64;

export function encodeUtf8(text: string): Uint8Array {
  const length = text.length;
  if (length > ON_HEAP) return encoder.encode(text);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return encoder.encode(text);
    bytes[i] = code;
  }
  return bytes;
}
