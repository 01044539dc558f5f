/** tsgi: the public surface. Re-exports only; each concern lives in its own module. */
export type { ASGIApp, Receive, Send } from './protocol.js';
export type { Logger } from './server/logger.js';
export * from '../generated/index.js';
export * from './validate/index.js';
export * from './http/index.js';
export { baseHTTPMiddleware, type CallNext, type Dispatch } from './middleware/base.js';
export { WebSocket, WebSocketDisconnect, type AcceptOptions, type JsonMode, type WebSocketSide } from './websocket/index.js';
export * from './fetch/index.js';
