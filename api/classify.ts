// Vercel routes /api/classify to this file; the handler is shared by all three routes.
export { GET, OPTIONS, POST } from '../handlers/vercel/index.js';
