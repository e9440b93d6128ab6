/**
 * The owner's handle on a guest worker's image-decoder thread: started on the first decode,
 * kept with its guest worker while that one is reused, and terminated with it, so a decode
 * the guest will never read stops at once (the synchronous part) or at its sharp timeout (the
 * native part).
 *
 * Where the thread's file is missing (a bundler moved this code into one file and shipped
 * only the sandbox folder), decodes run on the owner thread as a fallback: there one request
 * is served per instance, so a long decode holds up only its own run.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { type DecodeRequest, decodeForGuest } from './guest-decode.js';
import type { HostReply } from './host-calls.js';
import type { DecodeAnswer, DecodeJob } from './image-decoder.js';

/** Enough for the decoder's own objects; pixels live in ArrayBuffers outside this heap. */
const DECODER_HEAP_MB = 128;

/** Set once the decoder's file, or a file it imports, turned out not to be deployed. */
let unavailable = false;

function decoderFile(): URL | undefined {
  const beside = new URL('./image-decoder.js', import.meta.url);
  return !unavailable && existsSync(beside) ? beside : undefined;
}

const NOT_DEPLOYED = { ok: false, error: 'the image decoder is not deployed' } as const;

export class ImageDecoder {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, (reply: HostReply) => void>();
  #nextId = 1;

  #start(file: URL): Worker {
    const worker = new Worker(file, {
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: DECODER_HEAP_MB },
    });
    worker.on('message', (answer: DecodeAnswer) => {
      const settle = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      settle?.('pixels' in answer ? { ok: true, pixels: answer.pixels } : { ok: false, error: answer.error });
    });
    const fail = (error: (Error & { code?: string }) | number) => {
      if (this.#worker === worker) this.#worker = undefined;
      if (typeof error !== 'number' && error.code === 'ERR_MODULE_NOT_FOUND') unavailable = true;
      const reply = unavailable
        ? NOT_DEPLOYED
        : {
            ok: false as const,
            error: typeof error === 'number' ? 'the image decoder stopped' : error.message,
          };
      for (const settle of this.#pending.values()) settle(reply);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return worker;
  }

  /**
   * Starts the thread ahead of the first decode, for a program that imports `wasmedge_image`:
   * its start-up (~100 ms, loading sharp in a new isolate) then overlaps the guest's own.
   */
  prepare(): void {
    const file = decoderFile();
    if (file && !this.#worker) {
      this.#worker = this.#start(file);
      this.#worker.unref();
    }
  }

  async decode(request: DecodeRequest, deadline: number): Promise<HostReply> {
    const file = decoderFile();
    if (!file) return { ok: true, pixels: await decodeForGuest(request, deadline) };
    this.#worker ??= this.#start(file);
    this.#worker.ref();
    const id = this.#nextId++;
    const reply = new Promise<HostReply>((resolve) => this.#pending.set(id, resolve));
    this.#worker.postMessage({ id, request, deadline } satisfies DecodeJob);
    try {
      const answer = await reply;
      return answer === NOT_DEPLOYED ? this.decode(request, deadline) : answer;
    } finally {
      if (this.#pending.size === 0) this.#worker?.unref();
    }
  }

  /** Ends whatever the thread is doing; a later decode starts a new one. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }
}
