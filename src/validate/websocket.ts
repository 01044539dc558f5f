/**
 * One WebSocket connection under `validate`: shapes through the generated guards, order through
 * WebSocketStateMachine, and what neither covers: handshake and denial headers, the denial's
 * status, and the close frame's code and reason as RFC 6455 lets an endpoint send them.
 */
import type { MessageGuard, WebSocketReceiveMessage, WebSocketScope, WebSocketSendMessage } from '../../generated/index.js';
import type { Receive, Send } from '../protocol.js';
import { checkHeaders } from './header-rules.js';
import { ProtocolError } from './protocol-error.js';
import { WebSocketStateMachine } from './state-machine.js';

type Check = (direction: 'receive' | 'send', message: unknown) => MessageGuard | ProtocolError;
type Report = (error: ProtocolError) => boolean;

/** Close codes an endpoint may put in a close frame (RFC 6455 7.4.1 and 7.4.2; 1012-1014 from IANA's registry). */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

const encoder = new TextEncoder();

/**
 * ajv says only "must match exactly one schema in oneOf" when a data message breaks the
 * text/bytes rule; this names the fields instead. Off the hot path: only a failure comes here.
 */
function textOrBytes(error: ProtocolError, message: unknown): ProtocolError {
  if (error.rule !== 'oneOf' || error.path !== '') return error;
  const m = message as { text?: unknown; bytes?: unknown };
  const set = (v: unknown) => v !== undefined && v !== null;
  const got = set(m.text) && set(m.bytes) ? 'both are set' : !set(m.text) && !set(m.bytes) ? 'neither is set' : 'the one set has the wrong type';
  const who = error.direction === 'send' ? 'app sent' : 'server sent';
  return new ProtocolError(`${who} invalid '${error.type}': exactly one of /text (a string) and /bytes (a Uint8Array) must be set, and ${got}`, {
    direction: error.direction, type: error.type, path: set(m.text) && set(m.bytes) ? '/bytes' : '', rule: 'text-or-bytes',
  });
}

function closeProblem(code: number | undefined, reason: string | undefined): ProtocolError | null {
  if (code !== undefined && !isSendableCloseCode(code)) {
    return new ProtocolError(`app sent invalid 'websocket.close': /code ${code} may not be sent in a close frame (1000-1003, 1007-1014 or 3000-4999)`, {
      direction: 'send', type: 'websocket.close', path: '/code', rule: 'close-code',
    });
  }
  // A close frame is a control frame: 125 bytes of payload, two of them the code.
  if (reason !== undefined && reason.length > 41 && encoder.encode(reason).length > 123) {
    return new ProtocolError(`app sent invalid 'websocket.close': /reason is longer than 123 bytes in UTF-8, more than a close frame holds`, {
      direction: 'send', type: 'websocket.close', path: '/reason', rule: 'close-reason',
    });
  }
  return null;
}

export class WebSocketCycle {
  readonly machine = new WebSocketStateMachine();
  readonly receive: Receive;
  readonly send: Send;

  constructor(scope: WebSocketScope, innerReceive: Receive, innerSend: Send, check: Check, report: Report) {
    this.receive = async () => {
      const message = await innerReceive();
      const checked = check('receive', message);
      const error = checked instanceof ProtocolError ? textOrBytes(checked, message) : this.machine.receive(message as WebSocketReceiveMessage);
      if (error !== null && report(error)) throw error;
      return message;
    };
    this.send = (message) => {
      const error = this.checkSend(scope, check, message as WebSocketSendMessage);
      if (error === null) return innerSend(message);
      // A violating message never reaches the server: rejected when throwing, dropped otherwise.
      return report(error) ? Promise.reject(error) : Promise.resolve();
    };
  }

  private checkSend(scope: WebSocketScope, check: Check, message: WebSocketSendMessage): ProtocolError | null {
    const guard = check('send', message);
    if (guard instanceof ProtocolError) return textOrBytes(guard, message);
    if (guard.extension !== null && scope.extensions?.[guard.extension] === undefined) {
      return new ProtocolError(
        `app sent '${guard.type}', but the server does not offer the '${guard.extension}' extension (scope.extensions)`,
        { direction: 'send', type: guard.type, path: '/type', rule: 'extension' },
      );
    }
    switch (message.type) {
      case 'websocket.accept': {
        const chosen = message.subprotocol;
        if (chosen !== undefined && chosen !== null && !(scope.subprotocols ?? []).includes(chosen)) {
          return new ProtocolError(`app sent invalid 'websocket.accept': /subprotocol ${JSON.stringify(chosen)} is not one the client offered (scope.subprotocols)`, {
            direction: 'send', type: message.type, path: '/subprotocol', rule: 'subprotocol',
          });
        }
        if (message.headers !== undefined) {
          const error = checkHeaders(message.headers, 'send', message.type);
          if (error !== null) return error;
        }
        break;
      }
      case 'websocket.http.response.start': {
        if (message.status < 200) {
          return new ProtocolError(`app sent invalid '${message.type}': /status ${message.status} is not a final status; a denial response needs one (200-599)`, {
            direction: 'send', type: message.type, path: '/status', rule: 'final-status',
          });
        }
        if (message.headers !== undefined) {
          const error = checkHeaders(message.headers, 'send', message.type);
          if (error !== null) return error;
        }
        break;
      }
      case 'websocket.close': {
        const error = closeProblem(message.code, message.reason);
        if (error !== null) return error;
        break;
      }
      default:
        break;
    }
    return this.machine.send(message);
  }
}
