export { validate, type ValidateOptions } from './middleware.js';
export { ProtocolError, type Direction, type ProtocolErrorDetails } from './protocol-error.js';
export {
  HTTP_RECEIVE,
  HTTP_SEND,
  HTTPStateMachine,
  LIFESPAN,
  LifespanStateMachine,
  WEBSOCKET,
  WebSocketStateMachine,
  httpReceiveStep,
  httpSendStep,
  webSocketStep,
  type HTTPReceiveState,
  type HTTPReceiveStep,
  type HTTPSendState,
  type HTTPSendStep,
  type LifespanState,
  type LifespanStep,
  type WebSocketState,
  type WebSocketStep,
} from './state-machine.js';
export { checkFinalStatus, checkHeaders } from './header-rules.js';
