import handler from '../handlers/netlify/index.js';
import { BODY_LIMITS } from '../src/http/limits.js';
import { describeConformance } from './conformance/suite.js';
import { invokeWebHandler } from './conformance/web-handler.js';

/** The parts of Netlify's Context a function may read; ours reads none of it. */
const context = { requestId: 'test', site: { name: 'tflite-fn' }, geo: {}, ip: '127.0.0.1' };

describeConformance('Netlify', (request) => invokeWebHandler((req) => handler(req, context), request), {
  prefix: '/api',
  maxBodyBytes: BODY_LIMITS.netlify.maxBytes,
});
