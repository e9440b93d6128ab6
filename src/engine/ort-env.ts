/**
 * The process environment onnxruntime's native library reads when it starts. Must be set
 * before onnxruntime-node is first imported.
 *
 * Its Linux build has telemetry, switched off here, always (ORT_DISABLE_TELEMETRY=1):
 * - it reads /proc/self/cmdline at the first session and walks it recursively on the main
 *   thread's stack: a long command line (classify of 1000 files, ~40 KB) ends in SIGSEGV;
 * - it keeps a device ID and an event database under $HOME/.cache/Microsoft/DeveloperTools
 *   (plus a log and a session file in TMPDIR): a library serving requests should write
 *   nothing outside its own folders, and where HOME is not writable (AWS Lambda: only /tmp
 *   is) it printed "Failed to persist telemetry device ID" on every cold start.
 */
export function prepareOrtEnvironment(): void {
  process.env.ORT_DISABLE_TELEMETRY = '1';
}
