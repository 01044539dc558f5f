/**
 * `validate(app)`: checks every scope and message that crosses the app's boundary, in shape
 * (the generated guards) and in order (state-machine.ts), and stops a violation at the boundary
 * it crossed. Off, it is `app` itself.
 */
import {
  messageGuards as builtinMessageGuards,
  scopeGuards,
  type ASGIReceiveEvent,
  type ASGISendEvent,
  type GuardFailure,
  type HTTPReceiveEvent,
  type HTTPScope,
  type HTTPSendEvent,
  type LifespanReceiveEvent,
  type LifespanSendEvent,
  type MessageGuard,
  type Scope,
  type WebSocketScope,
} from '../../generated/index.js';
import { ClientDisconnect } from '../http/request.js';
import type { ASGIApp, Receive, Send } from '../protocol.js';
import { checkFinalStatus, checkHeaders } from './header-rules.js';
import { preview, ProtocolError, type Direction } from './protocol-error.js';
import { HTTPStateMachine, LifespanStateMachine } from './state-machine.js';
import { WebSocketCycle } from './websocket.js';

export interface ValidateOptions {
  /** Default: on, unless `NODE_ENV` is `production`. Off, `validate` returns `app` itself. */
  enabled?: boolean;
  /**
   * What a violation does. `'throw'` (the default) rejects the `send()` or `receive()` call
   * that carried it, or the app's own promise for a bad scope or an unfinished response.
   * `'warn'` logs it with `console.warn`; a function is handed the error. Either way a message
   * the app sends in violation is dropped, never passed on to the server.
   */
  onViolation?: 'throw' | 'warn' | ((error: ProtocolError) => void);
  /** Guards for message types of your own extensions (a generated `messageGuards`). */
  messages?: ReadonlyMap<string, MessageGuard>;
}

const WHO: Record<Direction, string> = { scope: 'server passed', receive: 'server sent', send: 'app sent' };

function shapeError(direction: Direction, type: string, failure: GuardFailure): ProtocolError {
  const got = failure.value === undefined ? '' : ` (got ${preview(failure.value)})`;
  const what = direction === 'scope' ? `an invalid '${type}' scope` : `invalid '${type}'`;
  return new ProtocolError(`${WHO[direction]} ${what}: ${failure.path || '(the value)'} ${failure.message}${got}`, {
    direction, type, path: failure.path, rule: failure.rule,
  });
}

/**
 * The type-level checks every message goes through before the connection's own rules. Returns
 * the message's guard, or the violation (a union, so the legal path allocates nothing).
 */
function checkMessage(
  guards: ReadonlyMap<string, MessageGuard>,
  direction: 'receive' | 'send',
  protocol: string,
  message: unknown,
): MessageGuard | ProtocolError {
  const type: unknown = message !== null && typeof message === 'object' ? (message as { type?: unknown }).type : undefined;
  const guard = typeof type === 'string' ? guards.get(type) : undefined;
  if (guard === undefined) {
    const what = typeof type === 'string'
      ? `unknown message type '${type}'`
      : `${preview(message)}, which is not a message (an object with a string 'type')`;
    return new ProtocolError(`${WHO[direction]} ${what}`, { direction, type: typeof type === 'string' ? type : undefined, path: '/type', rule: 'unknown-type' });
  }
  if (guard.protocol !== protocol || guard.direction !== direction) {
    const why = guard.protocol !== protocol
      ? `a '${guard.protocol}' message, on a '${protocol}' connection`
      : `which only ${guard.direction === 'send' ? 'apps send' : 'servers send'}`;
    return new ProtocolError(`${WHO[direction]} '${guard.type}', ${why}`, { direction, type: guard.type, path: '/type', rule: 'direction' });
  }
  if (!guard.is(message)) return shapeError(direction, guard.type, guard.explain(message)!);
  return guard;
}

type Report = (error: ProtocolError) => boolean;

function reporter(onViolation: ValidateOptions['onViolation']): Report {
  if (onViolation === undefined || onViolation === 'throw') return () => true;
  if (onViolation === 'warn') {
    return (error) => {
      console.warn(`tsgi: ${error.message}`);
      return false;
    };
  }
  return (error) => {
    onViolation(error);
    return false;
  };
}

/** One HTTP request-response cycle under watch. */
class HTTPCycle {
  readonly machine: HTTPStateMachine;
  readonly receive: Receive;
  readonly send: Send;

  constructor(
    private readonly scope: HTTPScope,
    private readonly innerReceive: Receive,
    innerSend: Send,
    private readonly guards: ReadonlyMap<string, MessageGuard>,
    private readonly report: Report,
  ) {
    this.machine = new HTTPStateMachine(scope.method);
    this.receive = async () => {
      const message = await innerReceive();
      const error = this.checkReceive(message);
      if (error !== null && this.report(error)) throw error;
      return message;
    };
    this.send = (message) => {
      const error = this.checkSend(message);
      if (error === null) return innerSend(message);
      // A violating message never reaches the server: rejected when throwing, dropped otherwise.
      return this.report(error) ? Promise.reject(error) : Promise.resolve();
    };
  }

  /**
   * The violation of an app that returned with its response unfinished, or null when that is
   * allowed: the response is complete, or the client has left. An app may learn that the client
   * left without receiving http.disconnect (a send raised the server's ClientDisconnect and the
   * app caught it) or not learn it at all (it never sent); neither is a protocol violation. So,
   * on this rare path only, ask the server once: after a disconnect, its receive() answers
   * http.disconnect at once. If it has not answered by the next macrotask the client is there.
   */
  async unfinished(): Promise<ProtocolError | null> {
    const error = this.machine.finish();
    if (error === null) return null;
    return (await this.clientLeft()) ? null : error;
  }

  private clientLeft(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 0);
      this.innerReceive().then(
        (message) => {
          clearTimeout(timer);
          resolve((message as { type?: unknown } | null)?.type === 'http.disconnect');
        },
        () => {
          clearTimeout(timer);
          resolve(false);
        },
      );
    });
  }

  private checkReceive(message: ASGIReceiveEvent): ProtocolError | null {
    const checked = checkMessage(this.guards, 'receive', 'http', message);
    if (checked instanceof ProtocolError) return checked;
    return this.machine.receive(message as HTTPReceiveEvent);
  }

  private checkSend(message: ASGISendEvent): ProtocolError | null {
    const guard = checkMessage(this.guards, 'send', 'http', message);
    if (guard instanceof ProtocolError) return guard;
    if (guard.extension !== null && this.scope.extensions?.[guard.extension] === undefined) {
      return new ProtocolError(
        `app sent '${guard.type}', but the server does not offer the '${guard.extension}' extension (scope.extensions)`,
        { direction: 'send', type: guard.type, path: '/type', rule: 'extension' },
      );
    }
    const m = message as HTTPSendEvent;
    if (m.type === 'http.response.start') {
      const error = checkFinalStatus(m.status);
      if (error !== null) return error;
    }
    if (m.type === 'http.response.start' || m.type === 'http.response.trailers' || m.type === 'http.response.push') {
      if (m.headers !== undefined) {
        const error = checkHeaders(m.headers, 'send', m.type);
        if (error !== null) return error;
      }
    }
    return this.machine.send(m);
  }
}

/** One lifespan conversation under watch. */
class LifespanCycle {
  readonly machine = new LifespanStateMachine();
  readonly receive: Receive;
  readonly send: Send;

  constructor(innerReceive: Receive, innerSend: Send, guards: ReadonlyMap<string, MessageGuard>, report: Report) {
    this.receive = async () => {
      const message = await innerReceive();
      const checked = checkMessage(guards, 'receive', 'lifespan', message);
      const error = checked instanceof ProtocolError ? checked : this.machine.receive(message as LifespanReceiveEvent);
      if (error !== null && report(error)) throw error;
      return message;
    };
    this.send = (message) => {
      const checked = checkMessage(guards, 'send', 'lifespan', message);
      const error = checked instanceof ProtocolError ? checked : this.machine.send(message as LifespanSendEvent);
      if (error === null) return innerSend(message);
      return report(error) ? Promise.reject(error) : Promise.resolve();
    };
  }
}

/** The core runs on any JavaScript runtime, so `process` is read only where one exists. */
function nodeEnv(): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NODE_ENV;
}

function checkScope(scope: unknown): ProtocolError | null {
  const guard = scopeGuards.get((scope as { type: string }).type)!;
  if (!guard.is(scope)) return shapeError('scope', guard.type, guard.explain(scope)!);
  if (guard.type === 'http' || guard.type === 'websocket') return checkHeaders((scope as HTTPScope | WebSocketScope).headers, 'scope', guard.type);
  return null;
}

/**
 * Wraps `app` so that every scope and message crossing its boundary is checked against the ASGI
 * spec: shapes by the generated guards, order by the state machine, header bytes and statuses by
 * the header rules. A violation becomes a `ProtocolError` naming the direction, the message, the
 * field and the rule. Scopes of a type tsgi has no schema for pass through, with one warning.
 */
export function validate(app: ASGIApp, options: ValidateOptions = {}): ASGIApp {
  const enabled = options.enabled ?? nodeEnv() !== 'production';
  if (!enabled) return app;
  const report = reporter(options.onViolation);
  const guards = options.messages ? new Map([...builtinMessageGuards, ...options.messages]) : builtinMessageGuards;
  const warned = new Set<string>();

  return async function validated(scope: Scope, receive: Receive, send: Send): Promise<void> {
    const type: unknown = scope !== null && typeof scope === 'object' ? (scope as { type?: unknown }).type : undefined;
    if (typeof type !== 'string') {
      const error = new ProtocolError(`server passed ${preview(scope)}, which is not a scope (an object with a string 'type')`, {
        direction: 'scope', type: undefined, path: '/type', rule: 'unknown-type',
      });
      if (report(error)) throw error;
      return app(scope, receive, send);
    }
    if (!scopeGuards.has(type)) {
      if (!warned.has(type)) {
        warned.add(type);
        console.warn(`tsgi: validate has no schema for '${type}' scopes; passing them through unchecked`);
      }
      return app(scope, receive, send);
    }
    const scopeError = checkScope(scope);
    if (scopeError !== null && report(scopeError)) throw scopeError;

    if (type === 'lifespan') {
      const cycle = new LifespanCycle(receive, send, guards, report);
      return app(scope, cycle.receive, cycle.send);
    }

    if (type === 'websocket') {
      const check = (direction: 'receive' | 'send', message: unknown) => checkMessage(guards, direction, 'websocket', message);
      const ws = new WebSocketCycle(scope as WebSocketScope, receive, send, check, report);
      // An error the app throws goes to the server as it is (500 before accept, 1011 after).
      await app(scope, ws.receive, ws.send);
      const unfinished = ws.machine.finish();
      if (unfinished !== null && report(unfinished)) throw unfinished;
      return;
    }

    const cycle = new HTTPCycle(scope as HTTPScope, receive, send, guards, report);
    try {
      await app(scope, cycle.receive, cycle.send);
    } catch (error) {
      // The app's own error is what the server must see (it answers 500 or aborts); an
      // unfinished response is the consequence, so it is only logged beside it, and not at all
      // when the error is the client having gone away.
      const unfinished = error instanceof ClientDisconnect || cycle.machine.finish() === null ? null : await cycle.unfinished();
      if (unfinished !== null) console.warn(`tsgi: app raised ${unfinished.message.replace(/^app returned /, '')}`);
      throw error;
    }
    // The legal path (a complete response) stays synchronous; only an unfinished one asks more.
    if (cycle.machine.finish() === null) return;
    const unfinished = await cycle.unfinished();
    if (unfinished !== null && report(unfinished)) throw unfinished;
  };
}
