/**
 * `tflite-fn stream-source VIDEO|DIR`: the source side of stream processing. From a folder,
 * every image in name order; from a video, every Nth frame (24: one a second of a 24 fps
 * camera, as in WasmEdge's YoMo example) cut to JPEG by ffmpeg. Each frame is published with
 * its id and source in headers, and its id as the message id, so publishing the same source
 * twice within the broker's duplicate window adds nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { connect, headers } from 'nats';
import { BadRequestError } from '../../src/errors.js';
import { ensureTopology, FRAME_HEADERS, type StreamNames } from './broker.js';

export interface SourceOptions extends StreamNames {
  readonly server: string;
  /** For videos: publish every Nth frame. */
  readonly every: number;
  /** Frames per second at most (0: as fast as the broker takes them). */
  readonly rate: number;
  readonly onProgress?: (published: number, total: number) => void;
}

const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|bmp|avif)$/i;

/** Cuts every Nth frame of a video into JPEG files with ffmpeg; returns their folder. */
function extractFrames(video: string, every: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-fn-frames-'));
  return new Promise((resolve, reject) => {
    const ffmpeg = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-i',
        video,
        '-vf',
        `select=not(mod(n\\,${every}))`,
        '-vsync',
        'vfr',
        '-q:v',
        '3',
        join(dir, 'frame-%06d.jpg'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let errors = '';
    ffmpeg.stderr.on('data', (chunk: Buffer) => {
      errors += chunk;
    });
    ffmpeg.on('error', (error) =>
      reject(
        new BadRequestError(
          'bad_option',
          `ffmpeg is needed for videos (apt-get install ffmpeg): ${error.message}`,
        ),
      ),
    );
    ffmpeg.on('close', (status) =>
      status === 0
        ? resolve(dir)
        : reject(
            new BadRequestError(
              'bad_option',
              `ffmpeg could not read ${video}: ${errors.trim().split('\n').pop()}`,
            ),
          ),
    );
  });
}

export async function publishSource(path: string, options: SourceOptions): Promise<{ published: number }> {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    throw new BadRequestError('bad_option', `${path} does not exist`);
  }
  const fromVideo = !stats.isDirectory();
  const dir = fromVideo ? await extractFrames(path, options.every) : path;
  try {
    const files = readdirSync(dir)
      .filter((name) => IMAGE.test(name))
      .sort();
    const nc = await connect({ servers: options.server, name: 'tflite-fn stream-source' });
    try {
      const jsm = await nc.jetstreamManager();
      await ensureTopology(jsm, options);
      const js = nc.jetstream();
      const source = basename(path);
      const gapMs = options.rate > 0 ? 1000 / options.rate : 0;
      const started = performance.now();
      for (const [index, name] of files.entries()) {
        const frameId = `${source}#${fromVideo ? index * options.every : basename(name, extname(name))}`;
        const h = headers();
        h.set(FRAME_HEADERS.id, frameId);
        h.set(FRAME_HEADERS.source, source);
        await js.publish(options.input, readFileSync(join(dir, name)), { msgID: frameId, headers: h });
        options.onProgress?.(index + 1, files.length);
        const due = started + (index + 1) * gapMs;
        if (gapMs > 0 && due > performance.now())
          await new Promise((r) => setTimeout(r, due - performance.now()));
      }
      return { published: files.length };
    } finally {
      await nc.drain();
    }
  } finally {
    if (fromVideo) rmSync(dir, { recursive: true, force: true });
  }
}
