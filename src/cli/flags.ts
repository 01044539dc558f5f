/**
 * The `tsgi serve` flags: one table, from which come the `util.parseArgs` configuration, the
 * `--help` text and the `ServeOptions` they build. Every `ServeOptions` field a command line can
 * carry has a flag; `logger` (an object) and `signals` (the command always owns its signals) do not.
 */
import { parseArgs } from 'node:util';
import type { LifespanMode } from '../server/lifespan.js';
import type { ServeLimits, ServeOptions, ServeTimeouts } from '../node/serve.js';

/** A mistake on the command line: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ServeCommand {
  /** `MODULE[:EXPORT]` as given. */
  app: string;
  options: ServeOptions;
  reload: boolean;
  help: boolean;
}

interface Flag {
  name: string;
  /** What the value looks like in `--help`; absent for a boolean flag. */
  value?: string;
  /** The default, as `--help` shows it. */
  default: string;
  help: string;
  apply?: (options: ServeOptions, raw: string, flag: string) => void;
}

const SIZE = /^(\d+)([kmg]?)$/i;
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function integer(raw: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} takes a whole number${max === Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ` from ${min} to ${max}`} (got '${raw}')`);
  }
  return n;
}

/** Bytes, with an optional binary unit: `1048576`, `1024k`, `1m`. */
function bytes(raw: string, flag: string): number {
  const match = SIZE.exec(raw);
  const n = match === null ? NaN : Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag} takes a size in bytes, optionally with k, m or g (got '${raw}')`);
  return n;
}

const limit = (key: keyof ServeLimits, parse: (raw: string, flag: string) => number) =>
  (options: ServeOptions, raw: string, flag: string) => {
    options.limits = { ...options.limits, [key]: parse(raw, flag) };
  };
const timeout = (key: keyof ServeTimeouts, min = 1) =>
  (options: ServeOptions, raw: string, flag: string) => {
    options.timeouts = { ...options.timeouts, [key]: integer(raw, flag, min) };
  };
const count = (raw: string, flag: string) => integer(raw, flag, 1);

const LIFESPAN_MODES: readonly LifespanMode[] = ['auto', 'on', 'off'];

export const FLAGS: readonly Flag[] = [
  { name: 'host', value: 'HOST', default: '127.0.0.1', help: 'the address to listen on', apply: (o, raw) => (o.host = raw) },
  { name: 'port', value: 'PORT', default: '8000', help: 'the port to listen on; 0 picks a free one', apply: (o, raw, f) => (o.port = integer(raw, f, 0, 65535)) },
  { name: 'uds', value: 'PATH', default: 'none', help: 'listen on this unix domain socket instead of host and port', apply: (o, raw) => (o.path = raw) },
  { name: 'workers', value: 'N', default: '1', help: 'processes sharing the port (node:cluster); a dead one is replaced', apply: (o, raw, f) => (o.workers = integer(raw, f, 1)) },
  { name: 'root-path', value: 'PATH', default: "''", help: "the path the app is mounted under (scope.root_path)", apply: (o, raw) => (o.rootPath = raw) },
  {
    name: 'lifespan', value: 'auto|on|off', default: 'auto', help: 'run lifespan startup and shutdown: if the app speaks it, always, or never',
    apply: (o, raw, f) => {
      if (!(LIFESPAN_MODES as readonly string[]).includes(raw)) throw new UsageError(`--${f} is one of auto, on, off (got '${raw}')`);
      o.lifespan = raw as LifespanMode;
    },
  },
  { name: 'validate', default: 'on unless NODE_ENV=production', help: 'check every ASGI message the app sends and receives' },
  { name: 'no-validate', default: '', help: 'do not validate (what production runs)' },
  { name: 'grace-period', value: 'MS', default: '10000', help: 'how long requests in flight may finish after a shutdown signal', apply: (o, raw, f) => (o.gracePeriod = integer(raw, f, 0)) },
  { name: 'proxy-headers', default: 'off', help: 'take the client address and scheme from X-Forwarded-For/-Proto or Forwarded, from trusted peers' },
  {
    name: 'forwarded-allow-ips', value: 'IPS', default: '127.0.0.1', help: "peers trusted to set proxy headers: comma-separated addresses or CIDR ranges, or '*'",
    apply: (o, raw, f) => {
      const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (list.length === 0) throw new UsageError(`--${f} takes a comma-separated list of addresses, or '*' (got '${raw}')`);
      o.forwardedAllowIps = list.includes('*') ? '*' : list;
    },
  },
  { name: 'max-body-size', value: 'BYTES', default: 'none', help: 'largest request body (413 past it); k, m, g units allowed', apply: limit('maxBodySize', bytes) },
  { name: 'max-headers', value: 'N', default: '100', help: 'most request headers (431 past it)', apply: limit('maxHeaders', count) },
  { name: 'max-header-size', value: 'BYTES', default: '16k', help: 'largest request line plus headers (431 past it)', apply: limit('maxHeaderSize', bytes) },
  { name: 'max-concurrency', value: 'N', default: 'none', help: 'most app calls in flight (503 past it)', apply: limit('maxConcurrency', count) },
  { name: 'max-websocket-message', value: 'BYTES', default: '16m', help: 'largest incoming WebSocket message (closed with 1009 past it)', apply: limit('maxWebSocketMessage', bytes) },
  { name: 'timeout-headers', value: 'MS', default: '30000', help: 'to receive a request head (408 past it)', apply: timeout('headers') },
  { name: 'timeout-request', value: 'MS', default: '300000', help: 'to receive a whole request (408 past it)', apply: timeout('request') },
  { name: 'timeout-keep-alive', value: 'MS', default: '5000', help: 'an idle keep-alive connection is closed after it', apply: timeout('keepAlive') },
  { name: 'timeout-write', value: 'MS', default: '60000', help: 'a response may wait this long on a client that reads nothing', apply: timeout('write') },
  { name: 'timeout-websocket-ping', value: 'MS', default: '20000', help: 'how often open WebSockets are pinged; no pong by the next ping closes one (0: never)', apply: timeout('webSocketPing', 0) },
  { name: 'reload', default: 'off', help: "restart when a loaded file changes (development; node's own --watch)" },
  { name: 'help', default: '', help: 'show this and exit' },
];

export const USAGE = 'usage: tsgi serve MODULE[:EXPORT] [flags]';

export function helpText(): string {
  const rows = FLAGS.map((flag) => {
    const left = `  --${flag.name}${flag.value === undefined ? '' : ` ${flag.value}`}`;
    const right = flag.default === '' ? flag.help : `${flag.help} (default: ${flag.default})`;
    return `${left.padEnd(34)}${right}`;
  });
  return [
    USAGE,
    '',
    'Runs an ASGI app on node:http. MODULE is a .js or .ts file; the app is its export EXPORT,',
    "else its export 'app', else its default export. A .ts module needs a node that strips types",
    '(23.6+, or 22.6+ with --experimental-strip-types) or tsx installed.',
    '',
    ...rows,
    '',
  ].join('\n');
}

/** Parses `tsgi serve`'s arguments (after `serve`) into the app spec and `ServeOptions`. */
export function parseServeArgs(args: readonly string[]): ServeCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: Object.fromEntries(FLAGS.map((flag) => [flag.name, { type: flag.value === undefined ? 'boolean' : 'string' }])) as
        Record<string, { type: 'string' | 'boolean' }>,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs says which flag and why in its first sentence; the rest is advice on '--'.
    const message = (error as Error).message.replace(/\s+/g, ' ').trim();
    throw new UsageError(`${/^.*?\.(?= |$)/.exec(message)?.[0] ?? message} ${USAGE}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const help = values.help === true;
  if (help) return { app: '', options: {}, reload: false, help };
  if (parsed.positionals.length !== 1) {
    throw new UsageError(parsed.positionals.length === 0 ? 'which app? give a module, like tsgi serve app.ts' : `one app module only (got ${parsed.positionals.join(' ')})`);
  }
  if (values.validate === true && values['no-validate'] === true) throw new UsageError('--validate and --no-validate contradict each other');

  const options: ServeOptions = {};
  for (const flag of FLAGS) {
    const raw = values[flag.name];
    if (typeof raw === 'string') flag.apply!(options, raw, flag.name);
  }
  if (values.validate === true) options.validate = true;
  if (values['no-validate'] === true) options.validate = false;
  if (values['proxy-headers'] === true) options.proxyHeaders = true;
  const reload = values.reload === true;
  if (reload && (options.workers ?? 1) > 1) throw new UsageError('--reload runs one process; it cannot be combined with --workers');
  return { app: parsed.positionals[0]!, options, reload, help };
}
