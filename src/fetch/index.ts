/** Fetch API interop, both ways: an ASGI app as a fetch handler, and a fetch handler as an app. */
export { toFetchHandler, type FetchHandler, type FetchLogger, type ToFetchHandlerOptions } from './to-fetch-handler.js';
export { fromFetchHandler, type FetchHandlerFunction, type FromFetchHandlerOptions } from './from-fetch-handler.js';
export { FastResponse } from './fast-response.js';
export { runtimeClient, type Address } from './connection.js';
export { UnsendableResponse, type ResponseClass } from './exchange.js';
