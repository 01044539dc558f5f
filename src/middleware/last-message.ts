/** Where a response ends: the message after which the downstream has nothing left to send. */
import type { HTTPSendEvent } from '../../generated/index.js';

/** Whether `message` completes a response whose start announced (or not) `trailers`. */
export function isLastMessage(message: HTTPSendEvent, trailers: boolean): boolean {
  switch (message.type) {
    case 'http.response.body':
    case 'http.response.zerocopysend':
      return message.more_body !== true && !trailers;
    case 'http.response.pathsend':
      return !trailers;
    case 'http.response.trailers':
      return message.more_trailers !== true;
    default:
      return false;
  }
}
