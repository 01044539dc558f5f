/**
 * A request target's path and query as ASGI wants them: the path percent-decoded, both as bytes.
 * No Node APIs, so every adapter can use it (src/fetch, src/node).
 */

/** Percent-decoding as uvicorn does it: lenient, leaving a malformed escape as it is. */
export function decodePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw.replace(/%[0-9A-Fa-f]{2}/g, (escape) => {
      try {
        return decodeURIComponent(escape);
      } catch {
        return escape;
      }
    });
  }
}

/** The path and query of an absolute URL string, found by index rather than by a URL parser. */
export function splitUrl(url: string): { path: string; query: string } {
  const authority = url.indexOf('://');
  let start = url.indexOf('/', authority === -1 ? 0 : authority + 3);
  if (start === -1) start = url.length;
  let end = url.indexOf('#', start);
  if (end === -1) end = url.length;
  const question = url.indexOf('?', start);
  if (question === -1 || question > end) return { path: start === end ? '/' : url.slice(start, end), query: '' };
  return { path: start === question ? '/' : url.slice(start, question), query: url.slice(question + 1, end) };
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The path and query of an HTTP request target: origin form (`/a?b`), or absolute form
 * (`http://host/a?b`, a proxy request) whose scheme and authority are dropped.
 */
export function splitTarget(target: string): { path: string; query: string } {
  if (target.charCodeAt(0) !== 0x2f && ABSOLUTE.test(target)) return splitUrl(target);
  const question = target.indexOf('?');
  return question === -1 ? { path: target, query: '' } : { path: target.slice(0, question), query: target.slice(question + 1) };
}

/**
 * Latin-1 text into bytes with a plain char-code loop (a URL's path and query are ASCII once
 * parsed; header values are byte strings). Characters above U+00FF keep their low byte, which a
 * parsed URL or a fetch `Headers` never holds.
 */
export function encodeLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Bytes into latin-1 text: one character per byte. */
export function decodeLatin1(bytes: Uint8Array): string {
  // fromCharCode over the whole array is native and fast; chunked to stay within argument limits.
  if (bytes.length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  return text;
}
