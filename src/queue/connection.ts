import { hostname } from 'node:os';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { defaultConfig } from '../config/config.js';

/**
 * The PostgreSQL database a cluster shares: pg-boss's job queue (schema `pgboss`) and the shared
 * translation memory (schema `newsbridge`). Every process that talks to it names itself
 * `newsbridge-<role> <host>:<pid>`, so `pg_stat_activity` shows who is connected.
 */

/** The pg-boss queue holding one job per article of every run. */
export const ARTICLE_QUEUE = 'newsbridge-articles';

/** This process, as workers and the translation memory name it. */
export const processName = `${hostname()}:${process.pid}`;

/** Connection parameters (libpq's, which node-postgres follows) whose values are or may carry secrets. */
const SECRET_PARAMETERS = new Set(['password', 'sslpassword', 'options']);
const MASK = '***';

/**
 * `connection` with every secret replaced by `***`, for messages and logs: in a URL the password of
 * `user:password@` and the values of `password`, `sslpassword` and `options` (server settings, which
 * can carry anything) in the query; in a libpq `key=value` string the values of the same keywords.
 * Host, port, user and database stay, so a message still says where it tried to connect. Where URL
 * parsers differ (a raw `@` or `?` in a password) it hides what any of them could take for the
 * password.
 */
export function redactUrl(connection: string): string {
  const uri = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(connection);
  return uri ? uri[1]! + redactUriRest(uri[2]!) : redactKeywordValues(connection);
}

function redactUriRest(rest: string): string {
  // The password runs from the userinfo's first `:` to its `@`. node-postgres (WHATWG's URL) takes
  // the last `@` before the path or query, libpq the first `@` before the path, and a password with
  // a raw `/` reads as no URL at all; the latest `@` of the three hides the password however it is read.
  const authority = rest.slice(0, rest.search(/[/?#]|$/));
  const firstAtOrSlash = rest.search(/[@/]|$/);
  const beforeQuery = rest.slice(0, rest.search(/\?|$/));
  const at = Math.max(authority.lastIndexOf('@'), rest[firstAtOrSlash] === '@' ? firstAtOrSlash : -1, beforeQuery.lastIndexOf('@'));
  const colon = rest.slice(0, Math.max(at, 0)).indexOf(':');
  const userinfo = colon === -1 ? rest.slice(0, at + 1) : `${rest.slice(0, colon + 1)}${MASK}@`;
  // libpq splits the query on `&` only (a `#` is part of a value), so a value runs to the next `&`.
  const tail = rest
    .slice(at + 1)
    .replace(/([?&])([^=&]*)=([^&]*)/g, (whole, separator: string, key: string) =>
      SECRET_PARAMETERS.has(decodedKey(key)) ? `${separator}${key}=${MASK}` : whole,
    );
  return userinfo + tail;
}

/** A query parameter's name as both parsers read it (`pass%77ord` is `password`). */
function decodedKey(raw: string): string {
  try {
    return decodeURIComponent(raw).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/** libpq's `host=db password='a b' options='-c x=y'`: a value is bare up to a space, or quoted with `\'` escapes. */
function redactKeywordValues(connection: string): string {
  return connection.replace(/(^|\s)(\w+)(\s*=\s*)('(?:\\.|[^'\\])*'?|(?:\\.|\S)*)/g, (whole, space: string, key: string, equals: string) =>
    SECRET_PARAMETERS.has(key.toLowerCase()) ? `${space}${key}${equals}${MASK}` : whole,
  );
}

/** Replaces the URL wherever it occurs in `text` (a driver error message may quote it). */
export function redactIn(text: string, url: string): string {
  return text.split(url).join(redactUrl(url));
}

/** The queue URL from `--queue`, else `queue.url` in the config, else `NEWSBRIDGE_QUEUE_URL`; checked. */
export function queueUrl(flag: string | undefined, configured: string | undefined, env = process.env): string | undefined {
  const url = flag ?? configured ?? env.NEWSBRIDGE_QUEUE_URL;
  if (url === undefined || url === '') return undefined;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new QueueUrlError(`queue URL ${redactUrl(url)} is not a URL; give one like postgres://user@host:5432/newsbridge`);
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new QueueUrlError(`queue URL ${redactUrl(url)} is not a PostgreSQL URL; give one like postgres://user@host:5432/newsbridge`);
  }
  return url;
}

/** A connection pool for `role`; keep-alive so a machine that vanished is noticed and its locks freed. */
export function openPool(url: string, role: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, keepAlive: true, application_name: `newsbridge-${role} ${processName}` });
  // An idle connection dropped by a database restart is replaced on the next query; nothing to do.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * How often pg-boss's maintenance runs (in one process of the cluster at a time). Among other things
 * it hands the job of a dead worker to the others, so such a job waits its lock timeout plus at most
 * this long.
 */
const MAINTENANCE_SECONDS = 5;

/** pg-boss on `url`, with the article queue and the workers table created when missing. */
export async function startQueue(url: string, role: string, onError: (message: string) => void): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    application_name: `newsbridge-${role} ${processName}`,
    max: 4,
    maintenanceIntervalSeconds: MAINTENANCE_SECONDS,
    // Nightly runs are started by whatever starts `newsbridge run` (cron, a CI schedule).
    schedule: false,
  });
  boss.on('error', (error: Error) => onError(redactIn(error.message, url)));
  try {
    await boss.start();
    await boss.createQueue(ARTICLE_QUEUE);
    // Two processes creating one table at once collide even with IF NOT EXISTS; the lock queues them.
    await boss.getDb().executeSql(`BEGIN; SELECT pg_advisory_xact_lock(${SCHEMA_LOCK}); ${WORKERS_TABLE} COMMIT;`, []);
  } catch (error) {
    await boss.stop({ graceful: false, wait: false }).catch(() => undefined);
    throw new QueueUnreachableError(
      `cannot use the job queue at ${redactUrl(url)}: ${redactIn((error as Error).message, url)}. Fix: start PostgreSQL there, or check the URL (--queue, queue.url or NEWSBRIDGE_QUEUE_URL)`,
    );
  }
  return boss;
}

/** Workers record here which jobs they hold (pg-boss does not say who holds a job), for `newsbridge status`. */
const WORKERS_TABLE = `
  CREATE SCHEMA IF NOT EXISTS newsbridge;
  CREATE TABLE IF NOT EXISTS newsbridge.workers (
    name text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at timestamptz NOT NULL DEFAULT now(),
    stopped_at timestamptz,
    running uuid[] NOT NULL DEFAULT '{}'
  );
  ALTER TABLE newsbridge.workers ADD COLUMN IF NOT EXISTS lock_timeout_seconds integer NOT NULL DEFAULT ${defaultConfig.queue.lockTimeoutSeconds};
  ALTER TABLE newsbridge.workers ADD COLUMN IF NOT EXISTS problem text;
`;

/** Any constant, the same for every newsbridge process: serialises creating newsbridge's tables. */
export const SCHEMA_LOCK = 0x6e657773;

/** The queue URL given is not a PostgreSQL URL (a usage error, exit code 1). */
export class QueueUrlError extends Error {
  override name = 'QueueUrlError';
}

/** The queue's database cannot be reached or used; the message names the URL (without its password) and the fix. */
export class QueueUnreachableError extends Error {
  override name = 'QueueUnreachableError';
}
