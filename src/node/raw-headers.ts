/**
 * Reading node's raw header list (`req.rawHeaders`) directly. node builds `req.headers` lazily,
 * an object and a call per header, on first access; the per-request path needs only a few fields
 * and finds them here instead.
 */

/** Whether header name `name` (any case) is `lower` (lower-case ASCII), without making a new string. */
export function isHeader(name: string, lower: string): boolean {
  const n = lower.length;
  if (name.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** What the request head says about its body: the fields the request-response cycle needs. */
export interface BodyHead {
  /** The first `content-length` value, as sent. */
  contentLength: string | undefined;
  /** Whether there is a `transfer-encoding` header. */
  transferEncoding: boolean;
  /** The first `expect` value, as sent. */
  expect: string | undefined;
}

/** Fills `out` (a scratch object the caller owns) from `raw`, and returns it. */
export function bodyHead(raw: readonly string[], out: BodyHead): BodyHead {
  out.contentLength = undefined;
  out.transferEncoding = false;
  out.expect = undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (out.contentLength === undefined && isHeader(name, 'content-length')) out.contentLength = raw[i + 1];
    else if (isHeader(name, 'transfer-encoding')) out.transferEncoding = true;
    else if (out.expect === undefined && isHeader(name, 'expect')) out.expect = raw[i + 1];
  }
  return out;
}
