// Vercel routes /api/v2 to this file; every route shares the one handler. Written by
// `npm run routes:sync` from the route table (src/http/routes.ts).
export { GET, OPTIONS, POST } from '../handlers/vercel/index.js';
