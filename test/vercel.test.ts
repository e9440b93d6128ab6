import { GET, POST } from '../handlers/vercel/index.js';
import { BODY_LIMITS } from '../src/http/limits.js';
import { describeConformance } from './conformance/suite.js';
import { invokeWebHandler } from './conformance/web-handler.js';

describeConformance('Vercel', (request) => invokeWebHandler(request.method === 'GET' ? GET : POST, request), {
  prefix: '/api',
  maxBodyBytes: BODY_LIMITS.vercel.maxBytes,
});
