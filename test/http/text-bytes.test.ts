/** Short text into bytes through a shared slab: every result keeps its own bytes, whatever follows. */
import fc from 'fast-check';
import { encodeLatin1Short, encodeUtf8 } from '../../src/http/text-bytes.js';

const decoder = new TextDecoder();

test('UTF-8: the bytes are TextEncoder\'s, for ASCII, non-ASCII, long and empty text (property)', () => {
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ minLength: 257, maxLength: 600 })), (text) => {
    expect([...encodeUtf8(text)]).toEqual([...new TextEncoder().encode(text)]);
  }), { numRuns: 2000 });
});

test('latin-1: one byte per character, all 256 values', () => {
  const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  expect([...encodeLatin1Short(all)]).toEqual(Array.from({ length: 256 }, (_, i) => i));
  expect([...encodeLatin1Short(all.slice(0, 100))]).toEqual(Array.from({ length: 100 }, (_, i) => i));
});

test('results held across many slabs keep their bytes: nothing is written twice', () => {
  const held: [string, Uint8Array][] = [];
  // Some 300 KiB of short text: several slabs' worth, each result kept.
  for (let i = 0; i < 3000; i++) {
    const text = `${i}:${'x'.repeat(i % 200)}`;
    held.push([text, i % 2 === 0 ? encodeUtf8(text) : encodeLatin1Short(text)]);
  }
  for (const [text, bytes] of held) expect(decoder.decode(bytes)).toBe(text);
  // Views of one slab do not overlap.
  const a = encodeUtf8('first');
  const b = encodeUtf8('second');
  a.fill(0);
  expect(decoder.decode(b)).toBe('second');
});
