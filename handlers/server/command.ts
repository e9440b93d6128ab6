/** `tflite-fn serve`: starts the server and stops it gracefully on SIGTERM or Ctrl-C. */
import { type ServerFlags, serverConfig } from './config.js';
import { jsonLogger, startServer } from './server.js';

export async function serveCommand(flags: ServerFlags): Promise<number> {
  const running = await startServer(serverConfig(flags));
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await running.close();
  return 0;
}

export { jsonLogger };
