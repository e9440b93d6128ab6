/**
 * The skeletons of AWS's HTTP events that the dev emulator fills in per request: the fields a
 * handler may read, with stand-in identifiers. (The tests use fuller captured-shape fixtures
 * from test/events/aws-lambda/.)
 */
import type { LambdaEventKind } from './lambda-events.js';

const now = () => ({ time: new Date().toUTCString(), timeEpoch: Date.now() });

export function eventTemplate(kind: LambdaEventKind, host: string): object {
  const requestId = crypto.randomUUID();
  if (kind === 'api-gateway-v2' || kind === 'function-url') {
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/',
      rawQueryString: '',
      headers: { host },
      requestContext: {
        accountId: kind === 'function-url' ? 'anonymous' : '123456789012',
        apiId: 'local',
        domainName: host,
        domainPrefix: 'local',
        http: {
          method: 'GET',
          path: '/',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'tflite-fn-dev',
        },
        requestId,
        routeKey: '$default',
        stage: '$default',
        ...now(),
      },
      isBase64Encoded: false,
    };
  }
  if (kind === 'api-gateway-v1') {
    return {
      resource: '/',
      path: '/',
      httpMethod: 'GET',
      headers: { Host: host },
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      requestContext: {
        accountId: '123456789012',
        apiId: 'local',
        domainName: host,
        httpMethod: 'GET',
        identity: { sourceIp: '127.0.0.1', userAgent: 'tflite-fn-dev' },
        path: '/dev/',
        protocol: 'HTTP/1.1',
        requestId,
        requestTimeEpoch: Date.now(),
        resourceId: 'local',
        resourcePath: '/',
        stage: 'dev',
      },
      body: null,
      isBase64Encoded: false,
    };
  }
  return {
    requestContext: {
      elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:local:000000000000:targetgroup/tflite-fn/local' },
    },
    httpMethod: 'GET',
    path: '/',
    queryStringParameters: {},
    headers: { host },
    body: '',
    isBase64Encoded: false,
  };
}
