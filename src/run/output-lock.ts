import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * One run per output folder at a time. Two runs writing one folder would each write the manifest
 * (the last one wins) and sweep each other's temp files, so a run holds a lock on the folder while
 * it works.
 *
 * The lock itself is proper-lockfile's: an atomic `mkdir` of `<output>/.newsbridge-run.lock`, whose
 * mtime the holder refreshes every few seconds; a lock left unrefreshed for `STALE_MS` (its holder
 * was killed, or its machine went down) is taken over. Beside it, `.newsbridge-run.holder` names the
 * holder (pid, host, start time) for the message a second run gives, and lets a run on the same host
 * take over at once from a holder that no longer exists (`kill -9`), instead of waiting.
 */

export const LOCK_DIR = '.newsbridge-run.lock';
/** JSON, but not named .json: tools that count outputs by extension must not count it. */
export const HOLDER_FILE = '.newsbridge-run.holder';
/** A lock whose mtime has not been refreshed for this long belongs to a run that is gone. */
const STALE_MS = 60_000;
/** How often the holder refreshes the lock's mtime. */
const UPDATE_MS = 10_000;

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

/** The output folder cannot be used for this run; nothing was processed (exit code 1). */
export class OutputDirError extends Error {
  override name = 'OutputDirError';
}

/** Another run holds the output folder. */
export class OutputLockedError extends OutputDirError {
  override name = 'OutputLockedError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | null,
  ) {
    const who = holder
      ? `newsbridge run ${holder.pid} on ${holder.host}, started ${holder.startedAt}`
      : 'another newsbridge run (it has not said which yet)';
    super(
      `output folder ${dir} is in use by ${who}; wait for it to finish or write elsewhere with --output. ` +
        `A run that was killed releases it ${STALE_MS / 1000} s after it stopped (at once on the same host).`,
    );
  }
}

export interface OutputLock {
  /** Set when the lock was lost while the run held it (its folder deleted, the machine asleep too long). */
  readonly lost: Error | null;
  release(): Promise<void>;
}

/**
 * Locks `dir` (created if needed) for this run. Throws `OutputLockedError` when another run holds it
 * and `OutputDirError` when the folder's name is too long to exist; any other failure to create the
 * lock (a read-only folder, a file in the way) returns no lock, since nothing can be written there
 * either and the writes will say why, article by article.
 */
export async function lockOutputDir(dir: string): Promise<OutputLock | null> {
  const lockPath = path.join(dir, LOCK_DIR);
  const holderPath = path.join(dir, HOLDER_FILE);
  const state: { lost: Error | null } = { lost: null };
  const options: lockfile.LockOptions = {
    realpath: false,
    lockfilePath: lockPath,
    stale: STALE_MS,
    update: UPDATE_MS,
    onCompromised: (error) => {
      state.lost = error;
    },
  };
  let release: () => Promise<void>;
  try {
    await mkdir(dir, { recursive: true });
    release = await lockfile.lock(dir, options).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ELOCKED') throw error;
      const holder = await readHolder(holderPath);
      if (!holder || holder.host !== hostname() || isAlive(holder.pid)) throw new OutputLockedError(dir, holder);
      // Its holder no longer exists (killed): the lock is stale whatever its age.
      await rm(lockPath, { recursive: true, force: true });
      return lockfile.lock(dir, options).catch(async (again: NodeJS.ErrnoException) => {
        if (again.code !== 'ELOCKED') throw again;
        throw new OutputLockedError(dir, await readHolder(holderPath));
      });
    });
  } catch (error) {
    if (error instanceof OutputDirError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENAMETOOLONG') {
      throw new OutputDirError(
        `output folder ${dir} cannot be created: its name is too long for the file system (ENAMETOOLONG); choose a shorter --output or output.dir`,
      );
    }
    return null;
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  // A plain write, not an atomic one: a half-written note only means the holder cannot be named.
  await writeFile(holderPath, `${JSON.stringify(holder)}\n`).catch(() => undefined);
  return {
    get lost() {
      return state.lost;
    },
    release: async () => {
      await rm(holderPath, { force: true }).catch(() => undefined);
      await release().catch(() => undefined);
    },
  };
}

async function readHolder(file: string): Promise<LockHolder | null> {
  try {
    const holder = JSON.parse(await readFile(file, 'utf8')) as Partial<LockHolder>;
    if (typeof holder.pid === 'number' && typeof holder.host === 'string' && typeof holder.startedAt === 'string') {
      return holder as LockHolder;
    }
  } catch {
    // Not written yet, or half-written by a run killed at that moment: nobody can be named.
  }
  return null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
