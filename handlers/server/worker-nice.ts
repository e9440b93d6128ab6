/**
 * A worker's CPU priority, set by the worker itself as it starts. On Linux, niceness belongs to
 * each thread and a new thread inherits its creator's: the server renices the worker's main
 * thread right after fork, but Node starts its own threads (V8's platform workers) in the
 * meantime, so the worker renices every thread it has, once, before loading anything. Threads
 * started later (libuv's pool, libvips' workers) inherit it.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Raises this process's threads to `nice` (never lowers it); returns what could not be set. */
export function reniceSelf(nice: number): string | undefined {
  let threads: string[];
  try {
    threads = readdirSync('/proc/self/task');
  } catch {
    threads = ['0']; // no /proc (macOS): niceness is per process there
  }
  const failures: string[] = [];
  for (const thread of threads) {
    const id = Number(thread);
    try {
      if (getPriority(id) < nice) setPriority(id, nice);
    } catch (error) {
      // A thread that ended meanwhile is no failure.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') failures.push(String(error));
    }
  }
  return failures.length > 0 ? failures.join('; ') : undefined;
}
