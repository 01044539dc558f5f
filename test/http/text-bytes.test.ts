/** Short text into bytes without TextEncoder's call: the same bytes, each result its own buffer. */
import fc from 'fast-check';
import { encodeUtf8 } from '../../src/http/text-bytes.js';

test('the bytes are TextEncoder\'s, for ASCII, non-ASCII, long and empty text (property)', () => {
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ minLength: 65, maxLength: 600 })), (text) => {
    expect([...encodeUtf8(text)]).toEqual([...new TextEncoder().encode(text)]);
  }), { numRuns: 2000 });
});

test('each result owns its buffer: nothing of another response shows through it or changes under it', () => {
  const first = encodeUtf8('session=secret');
  const second = encodeUtf8('{"ok":true}');
  expect(first.buffer.byteLength).toBe(first.length);
  expect(second.buffer.byteLength).toBe(second.length);
  first.fill(0);
  expect(new TextDecoder().decode(second)).toBe('{"ok":true}');
  // A transferred (detached) result leaves the next ones whole.
  structuredClone(second, { transfer: [second.buffer as ArrayBuffer] });
  expect(new TextDecoder().decode(encodeUtf8('after'))).toBe('after');
});
