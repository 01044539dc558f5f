export { fromLatin1, HeaderMap, latin1, MutableHeaderMap, type HeadersInit } from './headers.js';
export { ClientDisconnect, Request } from './request.js';
export {
  JSONResponse,
  PlainTextResponse,
  Response,
  StreamingResponse,
  type Background,
  type ResponseInit,
  type StreamingBody,
} from './response.js';
