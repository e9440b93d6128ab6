// The Open Inference Protocol's model contract: createApp({ modelSource }) serves any source.

// A model repository folder as a ModelSource (also what TFLITE_FN_MODEL_REPOSITORY opens).
export {
  type ModelRepository,
  type RepositoryOptions,
  repositorySource,
} from '../model/repository.js';
export {
  CATALOG_VERSION,
  catalogSource,
  type ModelSource,
  type ModelState,
  type ModelVersionInfo,
  type ResolvedModel,
} from '../oip/model-source.js';
export { type AppOptions, createApp, errorResponse } from './app.js';
export { decodeBase64, encodeBase64 } from './base64.js';
export { BODY_LIMITS, type BodyLimit } from './limits.js';
export { negotiate, type Offer, offersOf, parseFormat, type ResponseFormat } from './negotiate.js';
export {
  type ClassifyRequest,
  readBodyCapped,
  readClassifyRequest,
  readTaskRequest,
  type TaskRequest,
} from './read-request.js';
export { ROUTES, type RouteSpec, type RouteWork, routeOfTask, taskRoute } from './routes.js';
export { pinVersions, runJobHere, type TaskJob, type TaskOutcome, type TaskRunner } from './task-job.js';
