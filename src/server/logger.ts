/** Where every server adapter reports what went wrong, and its default. */

/** What a server logs to: errors (with the thrown value when there is one), warnings and notices. */
export interface Logger {
  error(message: string, error?: unknown): void;
  warn(message: string, error?: unknown): void;
  info(message: string): void;
}

/** The default: the console, each line prefixed `tsgi:`. */
export const consoleLogger: Logger = {
  error: (message, error) => console.error(`tsgi: ${message}`, ...(error === undefined ? [] : [error])),
  warn: (message, error) => console.warn(`tsgi: ${message}`, ...(error === undefined ? [] : [error])),
  info: (message) => console.info(`tsgi: ${message}`),
};
