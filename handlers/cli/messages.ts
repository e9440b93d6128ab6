/** How the CLI says an error. */
import { toTfliteFnError } from '../../src/errors.js';
import { hostPathOf } from '../../src/model/model-file.js';

/**
 * The client-safe message (on one line when `oneLine`), plus the host path it was about: kept
 * out of messages, which reach HTTP clients, but useful to the local user the CLI runs for.
 */
export function localMessage(error: unknown, oneLine = true): string {
  const failure = toTfliteFnError(error);
  const text = failure.expose ? failure.message : String(error);
  const message = oneLine ? text.split('\n').join(' ') : text;
  const path = hostPathOf(failure.cause);
  return path && !message.includes(path) ? `${message} (${path})` : message;
}
