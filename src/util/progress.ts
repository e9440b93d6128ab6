/**
 * A progress bar for long-running commands, on stderr so stdout stays clean for results.
 * On a terminal it redraws one line; in CI logs it prints a line every 10% instead, so logs
 * stay short but still show that work is moving.
 */
export interface Progress {
  update(done: number): void;
  finish(note?: string): void;
}

function formatAmount(value: number, unit: 'bytes' | 'items'): string {
  if (unit === 'items') return String(value);
  if (value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MB`;
  return `${Math.round(value / 1024)} kB`;
}

export function createProgress(
  label: string,
  total: number,
  options: { unit?: 'bytes' | 'items'; stream?: NodeJS.WriteStream; quiet?: boolean } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? 'items';
  const tty = stream.isTTY === true;
  let lastDecile = -1;
  let lastDraw = 0;
  let done = 0;
  const started = performance.now();

  const line = () => {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const amount =
      total > 0 ? `${formatAmount(done, unit)}/${formatAmount(total, unit)}` : formatAmount(done, unit);
    return `${label} [${bar}] ${Math.round(fraction * 100)}% ${amount}`;
  };

  return {
    update(value: number) {
      done = value;
      if (options.quiet) return;
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < 80 && done < total) return;
        lastDraw = now;
        stream.write(`\r${line()}\u001b[K`);
        return;
      }
      const decile = total > 0 ? Math.floor((done / total) * 10) : 0;
      if (decile > lastDecile && done < total) {
        lastDecile = decile;
        stream.write(`${line()}\n`);
      }
    },
    finish(note?: string) {
      if (options.quiet) return;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const text = `${line()} ${seconds}s${note ? ` ${note}` : ''}`;
      stream.write(tty ? `\r${text}\u001b[K\n` : `${text}\n`);
    },
  };
}
