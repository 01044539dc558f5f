/**
 * The app calls in flight, as serve counts them for `limits.maxConcurrency` and lists them at
 * shutdown. An intrusive list through the entries' own fields: adding and removing one is a few
 * field writes, where a Set of fresh objects costs a hash per object (about 60 ns per request).
 */

/** What an entry carries: its links in the list. */
export interface RunningEntry {
  prevRunning: RunningEntry | undefined;
  nextRunning: RunningEntry | undefined;
}

export class RunningCalls<T extends RunningEntry> {
  size = 0;
  private head: T | undefined;

  add(entry: T): void {
    entry.prevRunning = undefined;
    entry.nextRunning = this.head;
    if (this.head !== undefined) this.head.prevRunning = entry;
    this.head = entry;
    this.size += 1;
  }

  /** Removes `entry`, which must be in this list. */
  delete(entry: T): void {
    const { prevRunning: prev, nextRunning: next } = entry;
    if (prev !== undefined) prev.nextRunning = next;
    else this.head = next as T | undefined;
    if (next !== undefined) next.prevRunning = prev;
    entry.prevRunning = undefined;
    entry.nextRunning = undefined;
    this.size -= 1;
  }

  /** The entries, oldest first; built only when asked (at shutdown). */
  list(): T[] {
    const entries: T[] = [];
    for (let e: RunningEntry | undefined = this.head; e !== undefined; e = e.nextRunning) entries.push(e as T);
    return entries.reverse();
  }
}
