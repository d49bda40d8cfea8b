import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * A real small file system for disk-full tests: a tmpfs of `size` (e.g. `2m`) mounted at `dir`.
 * Needs root, as the tests and CI run. It fails loudly when it cannot mount: a disk-full test that
 * quietly ran on the big disk would prove nothing.
 */
export interface SmallDisk {
  dir: string;
  /** Fills the free space with `filler` but for about `leave` bytes (default 0: less than one block is left). */
  fill(leave?: number): string;
  /** Removes the filler, so writes succeed again. */
  free(): void;
  unmount(): void;
}

export function mountSmallDisk(dir: string, size: string): SmallDisk {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(
      `cannot mount a ${size} tmpfs at ${dir} for the disk-full test (${(error as Error).message.trim()}); these tests need root (as in CI)`,
    );
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    fill: (leave = 0) => {
      const handle = openSync(filler, 'a');
      const block = Buffer.alloc(4096, 1);
      try {
        for (let free = freeBytes(dir); free > leave; free -= block.length) writeSync(handle, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(handle);
      }
      return filler;
    },
    free: () => rmSync(filler, { force: true }),
    unmount: () => execFileSync('umount', [dir]),
  };
}

function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}
