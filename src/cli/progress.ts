// Progress on stderr: a redrawn bar on a terminal, one plain line per step otherwise (logs, CI).

export interface ProgressReporter {
  update(done: number, total: number, label: string): void;
  end(message?: string): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressReporter {
  if (quiet) return { update() {}, end() {} };
  if (!stream.isTTY) {
    return {
      update: (done, total, label) => stream.write(`[${done}/${total}] ${label}\n`),
      end: (message) => message && stream.write(`${message}\n`),
    };
  }
  const width = 30;
  return {
    update(done, total, label) {
      const filled = Math.round((done / Math.max(1, total)) * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const columns = stream.columns ?? 80;
      const line = `${bar} ${done}/${total} ${label}`.slice(0, columns - 1);
      stream.write(`\r\x1b[2K${line}`);
    },
    end(message) {
      stream.write(`\r\x1b[2K${message ? `${message}\n` : ''}`);
    },
  };
}
