import { describe, expect, it } from 'vitest';
import { QueueUrlError, queueUrl, redactIn, redactUrl } from '../../src/queue/connection.js';

describe('queue URLs', () => {
  it('hides the password and nothing else', () => {
    expect(redactUrl('postgres://news:s3cret@db.example:5432/newsbridge')).toBe('postgres://news:***@db.example:5432/newsbridge');
    expect(redactUrl('postgres://news@db.example/newsbridge')).toBe('postgres://news@db.example/newsbridge');
    expect(redactIn('cannot connect to postgres://a:pw@h/db: refused', 'postgres://a:pw@h/db')).toBe('cannot connect to postgres://a:***@h/db: refused');
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
});
