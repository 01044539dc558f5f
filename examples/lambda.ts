/**
 * The demo app on AWS Lambda, behind API Gateway (REST or HTTP API), an ALB or a Function URL:
 * point the function's handler at `lambda.main` (and at `lambda.stream` for a Function URL in
 * RESPONSE_STREAM mode, where the runtime provides the `awslambda` global).
 */
import { handler, streamHandler, type LambdaStreamHandler } from '../src/aws-lambda/index.js';
import { app } from './app.js';

export const main = handler(app);

export const stream: LambdaStreamHandler | undefined =
  (globalThis as { awslambda?: unknown }).awslambda === undefined ? undefined : streamHandler(app);
