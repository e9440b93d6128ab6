// Vercel routes /api/detect to this file; the handler is shared by every route.
export { GET, OPTIONS, POST } from '../handlers/vercel/index.js';
