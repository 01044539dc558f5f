/**
 * A `Response` body known whole, without reading its stream.
 *
 * Undici (Node's fetch) wraps every body in a byte `ReadableStream`, even a string or bytes
 * given whole, and reading it back costs two reads, a pull and a few promise turns a response.
 * It keeps what it was given beside the stream, though (the body's `source`), as @hono/node-server
 * once read it too: when that is bytes or a string and the stream is untouched, the body is
 * those bytes. The slot (a symbol described `state`) is found and checked once at load; where the
 * check fails, every body is read through its stream, as any other.
 */
import { encodeUtf8 } from '../http/text-bytes.js';

interface BodyState {
  body?: { stream?: unknown; source?: unknown } | null;
}


function stateSlot(): symbol | undefined {
  try {
    const probe = new Response('probe');
    const record = probe as unknown as Record<symbol, BodyState | undefined>;
    return Object.getOwnPropertySymbols(probe).find((s) => {
      const body = record[s]?.body;
      return s.description === 'state' && body != null && body.source === 'probe' && body.stream === probe.body;
    });
  } catch {
    return undefined;
  }
}

const SLOT = stateSlot();

/**
 * The body's bytes if the response was given them (or a string) whole and nobody has touched its
 * stream; undefined when it must be read as a stream.
 */
export function wholeBody(response: Response): Uint8Array | undefined {
  if (SLOT === undefined) return undefined;
  const body = (response as unknown as Record<symbol, BodyState | undefined>)[SLOT]?.body;
  if (body == null) return undefined;
  const source = body.source;
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) return undefined;
  // A stream a reader holds or has read from no longer has all of the source to give.
  const stream = body.stream as ReadableStream | undefined;
  if (stream === undefined || stream !== response.body || stream.locked || response.bodyUsed) return undefined;
  return typeof source === 'string' ? encodeUtf8(source) : source;
}
