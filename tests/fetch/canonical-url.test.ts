import { describe, expect, it } from 'vitest';
import { canonicalUrl, pageFileName } from '../../src/fetch/canonical-url.js';

describe('canonicalUrl', () => {
  it('drops the fragment, tracking parameters, the default port and an empty query; lowercases the host', () => {
    expect(canonicalUrl('HTTP://News.Example:80/a/story.html?utm_source=rss&utm_medium=feed#comments')).toBe(
      'http://news.example/a/story.html',
    );
    expect(canonicalUrl('https://news.example/a?fbclid=x&id=7&gclid=y&mc_eid=z&_ga=1')).toBe('https://news.example/a?id=7');
    expect(canonicalUrl('https://news.example/a?')).toBe('https://news.example/a');
  });

  it('keeps the parameters that may select content, in their order and spelling', () => {
    expect(canonicalUrl('https://news.example/view.php?p=2&id=%D8%B3&UTM_Campaign=x')).toBe('https://news.example/view.php?p=2&id=%D8%B3');
  });

  it('gives one article reached through two feeds with different tracking the same URL', () => {
    expect(canonicalUrl('http://127.0.0.1:8080/p/1?utm_source=a')).toBe(canonicalUrl('http://127.0.0.1:8080/p/1?fbclid=b#top'));
  });
});

describe('pageFileName', () => {
  it('is the host, a readable cut of the last path segment and a hash of the whole canonical URL', () => {
    expect(pageFileName('http://127.0.0.1:8080/news/2026/my-story.html')).toMatch(/^127\.0\.0\.1_8080\/my-story-[0-9a-f]{12}\.html$/);
    expect(pageFileName('https://news.example/')).toMatch(/^news\.example\/index-[0-9a-f]{12}\.html$/);
  });

  it('is the same night after night, and differs for URLs that differ only in the query', () => {
    expect(pageFileName('https://news.example/a?id=1')).toBe(pageFileName('https://news.example/a?id=1'));
    expect(pageFileName('https://news.example/a?id=1')).not.toBe(pageFileName('https://news.example/a?id=2'));
  });

  it('keeps only safe characters, whatever the path holds', () => {
    const name = pageFileName(`https://news.example/${encodeURIComponent('../../etc/passwd')}`);
    expect(name.split('/')).toHaveLength(2);
    expect(name).toMatch(/^news\.example\/[A-Za-z0-9._-]+\.html$/);
    expect(pageFileName(`https://news.example/${'x'.repeat(500)}`).length).toBeLessThan(100);
  });
});
