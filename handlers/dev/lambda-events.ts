/**
 * Builds AWS Lambda events from HTTP requests, the way each AWS front door does, and turns
 * Lambda results back into HTTP. Used by the dev emulator and the conformance tests.
 *
 * Body rules, as AWS applies them:
 *   - HTTP API (payload 2.0) and Function URLs base64-encode every body whose content type is
 *     not text-like, and set isBase64Encoded;
 *   - REST APIs (payload 1.0) base64-encode only content types listed in binaryMediaTypes
 *     (ours: image/*, application/octet-stream, multipart/form-data) and pass others as text;
 *   - ALB base64-encodes bodies it does not see as text.
 */
import type {
  ALBEvent,
  ALBResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
} from 'aws-lambda';
import { decodeBase64, encodeBase64 } from '../../src/http/base64.js';

export type LambdaEventKind = 'api-gateway-v2' | 'function-url' | 'api-gateway-v1' | 'alb';
export const LAMBDA_EVENT_KINDS: readonly LambdaEventKind[] = [
  'api-gateway-v2',
  'function-url',
  'api-gateway-v1',
  'alb',
];

export interface HttpRequestParts {
  readonly method: string;
  readonly path: string;
  /** Without the leading '?'. */
  readonly query: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface HttpResponseParts {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

/** The binaryMediaTypes our serverless.yml gives a REST API. */
export const REST_BINARY_MEDIA_TYPES = ['image/*', 'application/octet-stream', 'multipart/form-data'];

function mediaType(headers: Readonly<Record<string, string>>): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function isTextLike(type: string): boolean {
  return (
    type.startsWith('text/') ||
    /^application\/(json|xml|javascript|x-www-form-urlencoded)$/.test(type) ||
    /\+(json|xml)$/.test(type)
  );
}

function matchesBinaryMediaType(type: string): boolean {
  return REST_BINARY_MEDIA_TYPES.some((pattern) =>
    pattern.endsWith('/*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern,
  );
}

function encodeBody(body: Uint8Array, asBase64: boolean): { body: string | null; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: null, isBase64Encoded: false };
  if (asBase64) return { body: encodeBase64(body), isBase64Encoded: true };
  return { body: new TextDecoder().decode(body), isBase64Encoded: false };
}

function queryObject(query: string): { single: Record<string, string>; multi: Record<string, string[]> } {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(query)) {
    single[key] = value;
    multi[key] = [...(multi[key] ?? []), value];
  }
  return { single, multi };
}

function clone<T>(template: T): T {
  return structuredClone(template);
}

/** Fills `template` (a real-shaped event of that kind) with the request. */
export function buildLambdaEvent(kind: LambdaEventKind, request: HttpRequestParts, template: object): object {
  const headers = { ...request.headers, 'content-length': String(request.body.length) };
  const type = mediaType(headers);
  if (kind === 'api-gateway-v2' || kind === 'function-url') {
    const event = clone(template) as APIGatewayProxyEventV2;
    const { body, isBase64Encoded } = encodeBody(request.body, !isTextLike(type));
    event.rawPath = request.path;
    event.rawQueryString = request.query;
    event.headers = { ...headers, host: event.headers.host ?? 'localhost' };
    event.requestContext.http.method = request.method;
    event.requestContext.http.path = request.path;
    event.routeKey = kind === 'function-url' ? '$default' : `${request.method} ${request.path}`;
    event.requestContext.routeKey = event.routeKey;
    const { single } = queryObject(request.query);
    if (Object.keys(single).length > 0) event.queryStringParameters = single;
    else delete event.queryStringParameters;
    if (body === null) delete event.body;
    else event.body = body;
    event.isBase64Encoded = isBase64Encoded;
    return event;
  }
  if (kind === 'api-gateway-v1') {
    const event = clone(template) as APIGatewayProxyEvent;
    const { body, isBase64Encoded } = encodeBody(request.body, matchesBinaryMediaType(type));
    const { single, multi } = queryObject(request.query);
    const host = event.headers.Host ?? 'localhost';
    event.path = request.path;
    event.resource = request.path;
    event.httpMethod = request.method;
    event.headers = { ...headers, host };
    event.multiValueHeaders = Object.fromEntries(
      Object.entries(event.headers).map(([k, v]) => [k, [v ?? '']]),
    );
    event.queryStringParameters = Object.keys(single).length > 0 ? single : null;
    event.multiValueQueryStringParameters = Object.keys(multi).length > 0 ? multi : null;
    event.requestContext.httpMethod = request.method;
    event.requestContext.path = `/${event.requestContext.stage}${request.path}`;
    event.requestContext.resourcePath = request.path;
    event.body = body;
    event.isBase64Encoded = isBase64Encoded;
    return event;
  }
  const event = clone(template) as ALBEvent;
  const { body, isBase64Encoded } = encodeBody(request.body, !isTextLike(type));
  event.httpMethod = request.method;
  event.path = request.path;
  // ALB passes query values through as sent, still URL-encoded.
  event.queryStringParameters = Object.fromEntries(
    request.query
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const [key = '', value = ''] = pair.split('=');
        return [key, value];
      }),
  );
  event.headers = { ...headers, host: event.headers?.host ?? 'localhost' };
  event.body = body ?? '';
  event.isBase64Encoded = isBase64Encoded;
  return event;
}

/** A Lambda HTTP result (any of the three shapes) back to status, headers and bytes. */
export function lambdaResultToHttp(
  result: APIGatewayProxyResult | ALBResult | { cookies?: string[] },
): HttpResponseParts {
  const shaped = result as APIGatewayProxyResult & { cookies?: string[] };
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(shaped.headers ?? {})) headers[key.toLowerCase()] = String(value);
  for (const [key, values] of Object.entries(shaped.multiValueHeaders ?? {})) {
    headers[key.toLowerCase()] = values.map(String).join(', ');
  }
  const text = shaped.body ?? '';
  const body = shaped.isBase64Encoded ? decodeBase64(text) : new TextEncoder().encode(text);
  return { status: shaped.statusCode, headers, body };
}
