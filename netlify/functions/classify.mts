// Netlify Functions v2 entry: the handler lives in handlers/netlify; Netlify needs the config
// here, as literals it can read without running the code. Written by `npm run routes:sync`
// from the route table (src/http/routes.ts): edit the table, not this file.
export { default } from '../../handlers/netlify/index.js';

export const config = {
  path: [
    '/classify',
    '/api/classify',
    '/detect',
    '/api/detect',
    '/objects',
    '/api/objects',
    '/segment',
    '/api/segment',
    '/pose',
    '/api/pose',
    '/embed',
    '/api/embed',
    '/models',
    '/api/models',
    '/healthz',
    '/api/healthz',
    '/v2',
    '/api/v2',
    '/v2/health/live',
    '/api/v2/health/live',
    '/v2/health/ready',
    '/api/v2/health/ready',
    '/v2/models/:name',
    '/v2/models/:name/versions/:version',
    '/api/v2/models/:name',
    '/api/v2/models/:name/versions/:version',
    '/v2/models/:name/ready',
    '/v2/models/:name/versions/:version/ready',
    '/api/v2/models/:name/ready',
    '/api/v2/models/:name/versions/:version/ready',
    '/v2/models/:name/infer',
    '/v2/models/:name/versions/:version/infer',
    '/api/v2/models/:name/infer',
    '/api/v2/models/:name/versions/:version/infer',
  ],
  // Netlify answers OPTIONS itself unless the function asks for it (CORS preflight).
  method: ['GET', 'OPTIONS', 'POST'],
};
