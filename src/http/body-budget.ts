/**
 * Admission of request bodies before they are read. A server that reads every upload and only
 * then asks its worker queue whether there is room holds them all: 60 uploads of 32 MB took
 * the main process to 2 GB. A BodyBudget caps the bodies and the bytes in flight (from the
 * moment a request is admitted until it is answered); beyond it the request is refused at once,
 * its body unread. Large bodies may use only part of the bytes, so a few big uploads cannot
 * shut out ordinary photos.
 */
import { UnavailableError } from '../errors.js';

export interface BodyBudgetLimits {
  /** Bodies in flight at once (the worker pool cannot hold more anyway). */
  readonly maxBodies: number;
  /** Bytes of bodies in flight at once. */
  readonly maxBytes: number;
  /** A body over this many bytes counts as large... */
  readonly largeBody: number;
  /** ...and large bodies together may hold at most this many of the bytes. */
  readonly maxLargeBytes: number;
  /**
   * The time a request has (the server's deadline). A declared body whose pace says it would
   * take more than twice that is stopped early, so a slow drip gives its share back in
   * seconds, not at the deadline.
   */
  readonly deadlineMs?: number | undefined;
}

/** How often, and after how long, a body's pace is judged. */
const PACE_CHECK_MS = 1000;
const PACE_GRACE_MS = 2000;

/** One admitted body's share of the budget. */
export interface BodyAdmission {
  /** Takes bytes as they arrive (for bodies that did not declare a length); false: no room. */
  grow(bytes: number): boolean;
  /** Counts bytes received (every body: its pace is judged from them). */
  received(bytes: number): void;
  /** Aborted when a declared body is arriving too slowly to make the deadline. */
  readonly tooSlow: AbortSignal;
  /** Gives the share back; idempotent. */
  release(): void;
}

export class BodyBudget {
  readonly limits: BodyBudgetLimits;
  #bodies = 0;
  #bytes = 0;
  #largeBytes = 0;

  constructor(limits: BodyBudgetLimits) {
    this.limits = limits;
  }

  get bodies(): number {
    return this.#bodies;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Whether `more` bytes fit for a body that would then hold `size` (and held `before`). */
  #fits(before: number, size: number): boolean {
    const more = size - before;
    if (this.#bytes + more > this.limits.maxBytes) return false;
    if (size <= this.limits.largeBody) return true;
    const largeMore = before > this.limits.largeBody ? more : size;
    return this.#largeBytes + largeMore <= this.limits.maxLargeBytes;
  }

  #take(before: number, size: number): void {
    this.#bytes += size - before;
    if (size > this.limits.largeBody)
      this.#largeBytes += before > this.limits.largeBody ? size - before : size;
  }

  /** Admits a body of the declared length (or unknown, to grow as it arrives), or refuses it. */
  admit(declared: number | undefined): BodyAdmission | undefined {
    const initial = declared ?? 0;
    if (this.#bodies >= this.limits.maxBodies || !this.#fits(0, initial)) return undefined;
    this.#bodies++;
    this.#take(0, initial);
    let size = initial;
    let arrived = 0;
    let released = false;
    const pace = new AbortController();
    const timer = declared ? this.#watchPace(declared, () => arrived, pace) : undefined;
    return {
      grow: (bytes) => {
        if (released) return false;
        if (!this.#fits(size, size + bytes)) return false;
        this.#take(size, size + bytes);
        size += bytes;
        return true;
      },
      received: (bytes) => {
        arrived += bytes;
      },
      tooSlow: pace.signal,
      release: () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        this.#bodies--;
        this.#bytes -= size;
        if (size > this.limits.largeBody) this.#largeBytes -= size;
      },
    };
  }

  /** Aborts `pace` once the body's arrival so far projects past twice the deadline. */
  #watchPace(declared: number, arrived: () => number, pace: AbortController): NodeJS.Timeout | undefined {
    const deadline = this.limits.deadlineMs;
    if (!deadline) return undefined;
    const begun = performance.now();
    const timer = setInterval(() => {
      const elapsed = performance.now() - begun;
      if (elapsed < PACE_GRACE_MS || arrived() >= declared) return;
      if ((elapsed * declared) / Math.max(1, arrived()) > 2 * deadline) {
        clearInterval(timer);
        pace.abort();
      }
    }, PACE_CHECK_MS);
    timer.unref();
    return timer;
  }
}

/** The answer to a body the budget has no room for: retry shortly, elsewhere or later. */
export function noRoomForBody(): UnavailableError {
  return new UnavailableError(
    'overloaded',
    'the server is busy (receiving as many request bodies as it holds at once); retry shortly',
    1,
  );
}

/**
 * Admissions by request, so the body reader finds the one the admitting middleware made
 * without every handler passing it along.
 */
const admissions = new WeakMap<Request, BodyAdmission>();

export function admissionOf(request: Request): BodyAdmission | undefined {
  return admissions.get(request);
}

export function recordAdmission(request: Request, admission: BodyAdmission): void {
  admissions.set(request, admission);
}
