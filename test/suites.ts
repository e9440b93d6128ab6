/**
 * The one list of what `npm run test:fast` runs (test/run-tests.ts --fast). The full suite
 * (`npm test`, what CI runs) is every compiled test file; the fast one is the files named here,
 * run by the same runner in the same way. Because "full" is "every file" and fast is a named
 * subset, no test file can fall out of both: a new test runs in CI until someone adds it here,
 * and suites.test.ts fails if a name here is not a test file (a rename would otherwise drop it
 * from the fast loop silently).
 *
 * Fast: the core (decode, engines, models and their descriptors), the HTTP app and server, the
 * Open Inference Protocol, every task, one platform (Vercel's handler, in process) through the
 * shared conformance suite, the docs' links and paths, and the configuration module. Left to the full suite: what needs
 * a compiler, a browser, a broker or ffmpeg (the sandbox and its guests: sandbox, program*,
 * nn-classic, wasi-nn*, guest-decode; server-load; stream, dapr), platform CLIs and layer
 * builds (test/platforms/*, lambda, model-repository-deploy), npm pack (package), the CLI in
 * its own processes (cli, cache-location, setup, dev-server), model conversion (convert-*,
 * engine-choice, batching), the model repository (model-repository*), and the checks slow by
 * nature: pictures at the pixel limit (picture-limit decodes the largest pictures allowed) and
 * the worker pool's faults (pool waits out deadlines and restarts killed workers).
 */
export const FAST_TEST_FILES: readonly string[] = [
  // core
  'accuracy.test.js',
  'bad-input.test.js',
  'birds-aiy.test.js',
  'bmp.test.js',
  'classify.test.js',
  'decode-cost.test.js',
  'descriptor-lies.test.js',
  'descriptor.test.js',
  'engine.test.js',
  'formats.test.js',
  'hostile-input.test.js',
  'letterbox.test.js',
  'model-cut.test.js',
  'tflite-constants.test.js',
  'tflite-cut.test.js',
  'to-tensor.test.js',
  // http, server, Open Inference Protocol
  'http.test.js',
  'oip-examples.test.js',
  'oip-pool.test.js',
  'oip-readiness.test.js',
  'oip-source.test.js',
  'oip.test.js',
  'routes.test.js',
  'server.test.js',
  // every task
  'bodies.test.js',
  'detect.test.js',
  'embed.test.js',
  'objects-model.test.js',
  'objects-post-process.test.js',
  'objects.test.js',
  'overlay.test.js',
  'pose.test.js',
  'segment-masks.test.js',
  'segment-upsample.test.js',
  'segment.test.js',
  'tasks-hostile.test.js',
  'tasks.test.js',
  // one platform through the conformance suite
  'vercel.test.js',
  // the docs name only what exists; the configuration table is current; this list's own check
  'docs.test.js',
  'config.test.js',
  'suites.test.js',
];
