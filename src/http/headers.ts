/**
 * Header access over ASGI's raw header list. The list of `[name, value]` byte pairs stays the
 * truth, so a response whose headers nobody touched is sent with the very list it came with;
 * lookups compare bytes, case-insensitively, and decode only what they return.
 */
import type { Header } from '../../generated/index.js';

/** HTTP header text is ISO-8859-1: one byte per character. */
export function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new TypeError(`header text must be ISO-8859-1; ${JSON.stringify(text)} has U+${code.toString(16).padStart(4, '0')}`);
    bytes[i] = code;
  }
  return bytes;
}

export function fromLatin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

/**
 * `latin1(name.toLowerCase())`, without the intermediate string when the name is ASCII (as header
 * names are): it is encoded on every header lookup and change.
 */
function lowerName(name: string): Uint8Array {
  const bytes = new Uint8Array(name.length);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80) return latin1(name.toLowerCase());
    bytes[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return bytes;
}

/** Compares a header name in bytes with one already lower-cased and encoded. */
function sameName(name: Uint8Array, lower: Uint8Array): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower[i]) return false;
  }
  return true;
}

/** Headers as text (a record or pairs), another map, or an ASGI header list of byte pairs. */
export type HeadersInit = Record<string, string> | Iterable<readonly [string, string]> | HeaderMap | Header[];

/** Case-insensitive, order-keeping header lookups. Repeated names stay separate entries. */
export class HeaderMap implements Iterable<[string, string]> {
  protected list: Header[];

  constructor(raw: Header[] = []) {
    this.list = raw;
  }

  /** The ASGI header list, as sent in `http.response.start`. */
  get raw(): Header[] {
    return this.list;
  }

  /** The first value of `name`, or null. Several values of one name are not joined. */
  get(name: string): string | null {
    const lower = lowerName(name);
    for (const [n, v] of this.list) if (sameName(n, lower)) return fromLatin1(v);
    return null;
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const lower = lowerName(name);
    const values: string[] = [];
    for (const [n, v] of this.list) if (sameName(n, lower)) values.push(fromLatin1(v));
    return values;
  }

  has(name: string): boolean {
    const lower = lowerName(name);
    for (const [n] of this.list) if (sameName(n, lower)) return true;
    return false;
  }

  /** `[name, value]` pairs in order, names in lower case. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const [n, v] of this.list) yield [fromLatin1(n).toLowerCase(), fromLatin1(v)];
  }
}

/**
 * Headers a response may change. It borrows the list it is given and copies it on the first
 * change, so an app that reuses one header list for every response never sees it altered.
 */
export class MutableHeaderMap extends HeaderMap {
  private owned: boolean;

  constructor(init?: HeadersInit) {
    if (init === undefined) {
      super([]);
      this.owned = true;
    } else if (init instanceof HeaderMap) {
      super(init.raw);
      this.owned = false;
    } else if (Array.isArray(init) && (init.length === 0 || init[0]?.[0] instanceof Uint8Array)) {
      super(init as Header[]);
      this.owned = false;
    } else {
      const pairs: Iterable<readonly [string, string]> = Symbol.iterator in (init as object)
        ? (init as Iterable<readonly [string, string]>)
        : Object.entries(init as Record<string, string>);
      super([...pairs].map(([n, v]): Header => [latin1(n.toLowerCase()), latin1(v)]));
      this.owned = true;
    }
  }

  private own(): Header[] {
    if (!this.owned) {
      this.list = this.list.slice();
      this.owned = true;
    }
    return this.list;
  }

  /** Adds `pair` at the end: on a borrowed list, copies it with the pair in one pass (a slice and a push would grow it twice). */
  private add(pair: Header): void {
    if (this.owned) {
      this.list.push(pair);
      return;
    }
    const borrowed = this.list;
    const list: Header[] = [];
    for (let i = 0; i < borrowed.length; i++) list.push(borrowed[i]!);
    list.push(pair);
    this.list = list;
    this.owned = true;
  }

  /** Replaces every value of `name` with one. */
  set(name: string, value: string): void {
    const lower = lowerName(name);
    const pair: Header = [lower, latin1(value)];
    let at = 0;
    while (at < this.list.length && !sameName(this.list[at]![0], lower)) at++;
    if (at === this.list.length) {
      this.add(pair);
      return;
    }
    const list = this.own();
    list[at] = pair;
    for (let i = list.length - 1; i > at; i--) if (sameName(list[i]![0], lower)) list.splice(i, 1);
  }

  /** Adds a value, keeping the ones already there (`set-cookie`). */
  append(name: string, value: string): void {
    this.add([lowerName(name), latin1(value)]);
  }

  delete(name: string): void {
    const lower = lowerName(name);
    if (!this.has(name)) return;
    this.list = this.own().filter(([n]) => !sameName(n, lower));
  }
}
