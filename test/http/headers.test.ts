import { HeaderMap, MutableHeaderMap } from '../../src/index.js';
import { b } from '../support/messages.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('HeaderMap', () => {
  const raw: [Uint8Array, Uint8Array][] = [[b('host'), b('example.org')], [b('accept'), b('text/html')], [b('accept'), b('*/*')]];

  test('looks names up case-insensitively and keeps repeated names apart', () => {
    const headers = new HeaderMap(raw);
    expect(headers.get('Accept')).toBe('text/html');
    expect(headers.getAll('ACCEPT')).toEqual(['text/html', '*/*']);
    expect(headers.has('Host')).toBe(true);
    expect(headers.get('missing')).toBeNull();
    expect([...headers]).toEqual([['host', 'example.org'], ['accept', 'text/html'], ['accept', '*/*']]);
  });

  test('decodes values as ISO-8859-1', () => {
    expect(new HeaderMap([[b('x'), new Uint8Array([0x63, 0x61, 0x66, 0xe9])]]).get('x')).toBe('café');
  });
});

describe('MutableHeaderMap', () => {
  test('set replaces every value of a name, in the first one\'s place', () => {
    const headers = new MutableHeaderMap([['a', '1'], ['b', '2'], ['A', '3']]);
    headers.set('a', 'x');
    expect([...headers]).toEqual([['a', 'x'], ['b', '2']]);
  });

  test('append keeps what is there; delete removes every value', () => {
    const headers = new MutableHeaderMap({ 'Set-Cookie': 'a=1' });
    headers.append('set-cookie', 'b=2');
    expect(headers.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
    headers.delete('SET-COOKIE');
    expect(headers.has('set-cookie')).toBe(false);
    expect(headers.raw).toEqual([]);
  });

  test('names are stored in lower case, as ASGI requires', () => {
    const headers = new MutableHeaderMap();
    headers.set('Content-Type', 'text/plain');
    expect(text(headers.raw[0]![0])).toBe('content-type');
  });

  test('a borrowed list is copied on the first change, never altered', () => {
    const shared: [Uint8Array, Uint8Array][] = [[b('x-a'), b('1')]];
    const headers = new MutableHeaderMap(shared);
    expect(headers.raw).toBe(shared);
    headers.append('x-b', '2');
    expect(shared).toHaveLength(1);
    expect(headers.raw).toHaveLength(2);
  });

  test('set on a borrowed list, whether it adds or replaces, copies it and leaves it alone', () => {
    const shared: [Uint8Array, Uint8Array][] = [[b('x-a'), b('1')], [b('x-b'), b('2')]];
    const adds = new MutableHeaderMap(shared);
    adds.set('X-C', '3');
    adds.set('x-d', '4');
    expect([...adds]).toEqual([['x-a', '1'], ['x-b', '2'], ['x-c', '3'], ['x-d', '4']]);
    const replaces = new MutableHeaderMap(shared);
    replaces.set('X-A', 'one');
    expect([...replaces]).toEqual([['x-a', 'one'], ['x-b', '2']]);
    expect(shared.map(([n, v]) => [text(n), text(v)])).toEqual([['x-a', '1'], ['x-b', '2']]);
  });

  test('names beyond ASCII are lower-cased as String.toLowerCase does, then encoded', () => {
    const headers = new MutableHeaderMap();
    headers.set('X-\u00C0', 'v');
    expect([...headers.raw[0]![0]]).toEqual([0x78, 0x2d, 0xe0]);
    expect(headers.get('x-\u00E0')).toBe('v');
    expect(() => headers.set('x-\u0130', 'v')).toThrow(/ISO-8859-1/);
  });

  test('text outside ISO-8859-1 is refused, not mangled', () => {
    expect(() => new MutableHeaderMap({ 'x-name': 'snow ☃' })).toThrow(/ISO-8859-1/);
  });
});
