import { describe, expect, it } from 'vitest';
import { QueueUrlError, queueUrl, redactIn, redactUrl } from '../../src/queue/connection.js';

describe('queue URLs', () => {
  it('hides the password and nothing else', () => {
    expect(redactUrl('postgres://news:s3cret@db.example:5432/newsbridge')).toBe('postgres://news:***@db.example:5432/newsbridge');
    expect(redactUrl('postgres://news@db.example/newsbridge')).toBe('postgres://news@db.example/newsbridge');
    expect(redactIn('cannot connect to postgres://a:pw@h/db: refused', 'postgres://a:pw@h/db')).toBe(
      'cannot connect to postgres://a:***@h/db: refused',
    );
  });

  // Every place libpq and node-postgres take a secret from.
  const forms: [string, string, string][] = [
    ['user:password@', 'postgres://news:s3cret@db:5432/nb', 'postgres://news:***@db:5432/nb'],
    ['?password=', 'postgres://news@db/nb?password=s3cret', 'postgres://news@db/nb?password=***'],
    [
      'password= among other parameters',
      'postgres://news@db/nb?sslmode=require&password=s3cret&application_name=x',
      'postgres://news@db/nb?sslmode=require&password=***&application_name=x',
    ],
    ['a percent-encoded parameter name', 'postgres://news@db/nb?pass%77ord=s3cret', 'postgres://news@db/nb?pass%77ord=***'],
    [
      "?sslpassword= (the client key's)",
      'postgres://news@db/nb?sslkey=/k.pem&sslpassword=s3cret',
      'postgres://news@db/nb?sslkey=/k.pem&sslpassword=***',
    ],
    ['?options= (server settings)', 'postgres://news@db/nb?options=-c%20password%3Ds3cret', 'postgres://news@db/nb?options=***'],
    ['a # in a query value (libpq keeps it)', 'postgres://news@db/nb?password=s3#cret', 'postgres://news@db/nb?password=***'],
    ['both at once', 'postgresql://news:s3cret@db/nb?password=s3cret', 'postgresql://news:***@db/nb?password=***'],
    ['a raw @ in the password', 'postgres://news:s3@cret@db/nb', 'postgres://news:***@db/nb'],
    ['a raw ? in the password (libpq reads it)', 'postgres://news:s3?cret@db/nb', 'postgres://news:***@db/nb'],
    ['a raw / in the password (no URL at all)', 'postgres://news:s3/cret@db/nb', 'postgres://news:***@db/nb'],
    ['several hosts', 'postgres://news:s3cret@h1:5432,h2:5433/nb', 'postgres://news:***@h1:5432,h2:5433/nb'],
    ['an IPv6 host', 'postgres://news:s3cret@[::1]:5432/nb', 'postgres://news:***@[::1]:5432/nb'],
    ['an @ in a query value, no path', 'postgres://news@db?password=s3cret@x', 'postgres://news@db?password=***'],
    ['key=value', 'host=db user=news password=s3cret dbname=nb', 'host=db user=news password=*** dbname=nb'],
    ['key=value, quoted with an escaped quote', "host=db password='s3 c\\'ret' dbname=nb", 'host=db password=*** dbname=nb'],
    ['key = value, spaced, with options', "host=db password = s3cret options='-c password=s3cret'", 'host=db password = *** options=***'],
    ['key=value, sslpassword', 'host=db sslpassword=s3cret', 'host=db sslpassword=***'],
  ];
  for (const [form, url, masked] of forms) {
    it(`masks ${form}`, () => {
      expect(redactUrl(url)).toBe(masked);
      expect(redactUrl(url)).not.toContain('s3');
    });
  }

  it('masks the URL inside a driver message, every form', () => {
    for (const [, url] of forms) expect(redactIn(`connect to ${url} failed`, url)).not.toContain('s3');
  });

  it('takes --queue, then queue.url, then NEWSBRIDGE_QUEUE_URL', () => {
    const env = { NEWSBRIDGE_QUEUE_URL: 'postgres://env/db' };
    expect(queueUrl('postgres://flag/db', 'postgres://config/db', env)).toBe('postgres://flag/db');
    expect(queueUrl(undefined, 'postgres://config/db', env)).toBe('postgres://config/db');
    expect(queueUrl(undefined, undefined, env)).toBe('postgres://env/db');
    expect(queueUrl(undefined, undefined, {})).toBeUndefined();
  });

  it('refuses what is not a PostgreSQL URL, without repeating its password', () => {
    expect(() => queueUrl('redis://u:pw@host/0', undefined, {})).toThrow(QueueUrlError);
    expect(() => queueUrl('redis://u:pw@host/0', undefined, {})).toThrow(/redis:\/\/u:\*\*\*@host\/0 is not a PostgreSQL URL/);
    expect(() => queueUrl('not a url', undefined, {})).toThrow(/is not a URL/);
  });

  it('refuses a key=value string (node-postgres takes URLs only), without repeating its password', () => {
    expect(() => queueUrl('host=db password=s3cret', undefined, {})).toThrow('queue URL host=db password=*** is not a URL');
    expect(() => queueUrl('postgres://news@db/nb?password=s3cret', undefined, {})).not.toThrow();
  });
});
