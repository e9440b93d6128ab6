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
}

/** One admitted body's share of the budget. */
export interface BodyAdmission {
  /** Takes bytes as they arrive (for bodies that did not declare a length); false: no room. */
  grow(bytes: number): boolean;
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
    let released = false;
    return {
      grow: (bytes) => {
        if (released) return false;
        if (!this.#fits(size, size + bytes)) return false;
        this.#take(size, size + bytes);
        size += bytes;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#bodies--;
        this.#bytes -= size;
        if (size > this.limits.largeBody) this.#largeBytes -= size;
      },
    };
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
