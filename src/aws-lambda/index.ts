/** tsgi/aws-lambda: ASGI apps on AWS Lambda (API Gateway REST and HTTP APIs, ALB, Function URLs). */
export { handler, streamHandler, type LambdaHandler, type LambdaHandlerOptions, type LambdaLogger, type LambdaStreamHandler } from './handler.js';
export { LambdaEventError, type EventKind } from './events.js';
export { DEFAULT_TEXT_MIME_TYPES } from './response.js';
export type * from './types.js';
