/** Cuts a video into JPEG frames with ffmpeg, for `tflite-fn stream-source VIDEO`. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadRequestError } from '../../src/errors.js';

/** Cuts every Nth frame of a video into JPEG files; returns their (temporary) folder. */
export function extractFrames(video: string, every: number): Promise<string> {
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
