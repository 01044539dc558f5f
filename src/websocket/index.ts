export { WebSocketDisconnect } from './disconnect.js';
export { WebSocket, type AcceptOptions, type JsonMode, type WebSocketSide } from './websocket.js';
