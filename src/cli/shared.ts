/** What the commands share: option definitions, error reporting, sizes and download progress. */
import cliProgress from 'cli-progress';
import { Option } from 'commander';
import { MODEL_DTYPES } from '../config/config.js';
import type { ConfiguredModel } from '../models/layout.js';
import type { PullProgress } from '../models/pull.js';
import { writeLine } from './printable.js';

/** `--dtype`, checked by commander against the dtypes the model store knows. */
export function dtypeOption(): Option {
  return new Option('--dtype <dtype>', 'model weights (default: translation.dtype)').choices(MODEL_DTYPES);
}

/**
 * Runs a command whose errors (config, store, cache) already say what is wrong and how to fix it:
 * prints the message after the command's name and sets exit code 1.
 */
export async function reportErrors(command: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    writeLine(process.stderr, `newsbridge ${command}: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

export interface ProgressReporter {
  update(model: ConfiguredModel, progress: PullProgress): void;
  stop(): void;
}

/** Download progress: bars on a terminal; one line per finished file otherwise (logs, CI). */
export function progressReporter(): ProgressReporter {
  if (!process.stderr.isTTY) {
    return {
      update(model, p) {
        if (p.state === 'done') writeLine(process.stderr, `${model.lang}: ${p.file} downloaded (${formatBytes(p.bytesDone)})`);
        if (p.state === 'verified') writeLine(process.stderr, `${model.lang}: ${p.file} already present (sha256 ok)`);
      },
      stop() {},
    };
  }
  let bars: cliProgress.MultiBar | null = null;
  const byFile = new Map<string, cliProgress.SingleBar>();
  return {
    update(model, p) {
      bars ??= new cliProgress.MultiBar(
        {
          stream: process.stderr,
          format: ' {bar} {percentage}% {name} {size}',
          barsize: 20,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      const key = `${model.lang}/${p.file}`;
      const total = p.bytesTotal ?? Math.max(p.bytesDone, 1);
      const payload = {
        name: `${model.lang} ${p.file}`,
        size: `${formatBytes(p.bytesDone)} / ${p.bytesTotal === null ? '?' : formatBytes(total)}`,
      };
      let bar = byFile.get(key);
      if (!bar) {
        bar = bars.create(total, p.bytesDone, payload);
        byFile.set(key, bar);
      }
      bar.setTotal(total);
      bar.update(p.bytesDone, payload);
    },
    stop() {
      bars?.stop();
      bars = null;
      byFile.clear();
    },
  };
}
