// Netlify Functions v2 entry: the handler lives in handlers/netlify; Netlify needs the config
// here, as literals it can read without running the code.
export { default } from '../../handlers/netlify/index.js';

export const config = {
  path: ['/api/classify', '/api/detect', '/api/models', '/api/healthz'],
  // Netlify answers OPTIONS itself unless the function asks for it (CORS preflight).
  method: ['GET', 'POST', 'OPTIONS'],
};
