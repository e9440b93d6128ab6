// Vercel routes /api/healthz to this file; the handler is shared by all three routes.
export { GET, OPTIONS, POST } from '../handlers/vercel/index.js';
