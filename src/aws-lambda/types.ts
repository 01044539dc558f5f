/**
 * The Lambda events and results tsgi/aws-lambda reads and writes: only the fields it uses,
 * declared here so that users need not install @types/aws-lambda. They are structurally
 * compatible with it: its `APIGatewayProxyEvent`, `APIGatewayProxyEventV2`, `ALBEvent` and
 * `LambdaFunctionURLEvent` are accepted, and the results are assignable to its result types
 * (checked in test/aws-lambda).
 */

type StringMap = { [name: string]: string | undefined };
type StringListMap = { [name: string]: string[] | undefined };

/** API Gateway REST API (and HTTP API payload 1.0) proxy event. */
export interface APIGatewayV1Event {
  version?: string;
  httpMethod: string;
  path: string;
  headers?: StringMap | null;
  multiValueHeaders?: StringListMap | null;
  queryStringParameters?: StringMap | null;
  multiValueQueryStringParameters?: StringListMap | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext?: {
    protocol?: string;
    identity?: { sourceIp?: string | null };
    elb?: undefined;
  };
}

/** API Gateway HTTP API payload 2.0 event, which Lambda Function URLs also send. */
export interface APIGatewayV2Event {
  version: string;
  rawPath: string;
  rawQueryString?: string;
  cookies?: string[];
  headers?: StringMap | null;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: {
    domainName?: string;
    http: { method: string; path?: string; protocol?: string; sourceIp?: string };
  };
}

/** Application Load Balancer event, with or without multi-value headers enabled on the target group. */
export interface ALBEvent {
  httpMethod: string;
  path: string;
  headers?: StringMap | null;
  multiValueHeaders?: StringListMap | null;
  queryStringParameters?: StringMap | null;
  multiValueQueryStringParameters?: StringListMap | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext: { elb: { targetGroupArn?: string } };
}

export type LambdaEvent = APIGatewayV1Event | APIGatewayV2Event | ALBEvent;

export interface APIGatewayV1Result {
  statusCode: number;
  headers?: { [name: string]: string };
  multiValueHeaders?: { [name: string]: string[] };
  body: string;
  isBase64Encoded: boolean;
}

export interface APIGatewayV2Result {
  statusCode: number;
  headers?: { [name: string]: string };
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

export interface ALBResult {
  statusCode: number;
  statusDescription: string;
  headers?: { [name: string]: string };
  multiValueHeaders?: { [name: string]: string[] };
  body: string;
  isBase64Encoded: boolean;
}

export type LambdaResult = APIGatewayV1Result | APIGatewayV2Result | ALBResult;

/** The parts of Lambda's context object tsgi reads (none yet); any context is accepted. */
export interface LambdaContext {
  awsRequestId?: string;
}

/** A writable stream as the Node runtime hands it to a streaming handler (`responseStream`). */
export interface ResponseStream {
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): void;
  once(event: 'drain' | 'close' | 'error' | 'finish', listener: (...args: unknown[]) => void): unknown;
  off(event: 'drain' | 'close' | 'error' | 'finish', listener: (...args: unknown[]) => void): unknown;
  readonly destroyed?: boolean;
  readonly writableFinished?: boolean;
}

/** The `awslambda` global of the Node.js Lambda runtime, as far as response streaming uses it. */
export interface AWSLambdaGlobal {
  streamifyResponse<E>(handler: (event: E, responseStream: ResponseStream, context: LambdaContext) => Promise<void>): unknown;
  HttpResponseStream: {
    from(stream: ResponseStream, metadata: { statusCode: number; headers?: { [name: string]: string }; cookies?: string[] }): ResponseStream;
  };
}
