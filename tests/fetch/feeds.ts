/** Feed and sitemap documents for the fetch tests, written the way sites write them. */

export interface Entry {
  url: string;
  title: string;
  date: string;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function rss(entries: readonly Entry[]): string {
  const items = entries.map(
    (entry) =>
      `    <item>\n      <title>${escapeXml(entry.title)}</title>\n      <link>${escapeXml(entry.url)}</link>\n      <pubDate>${new Date(entry.date).toUTCString()}</pubDate>\n    </item>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n  <channel>\n    <title>Test news</title>\n    <link>http://example.test/</link>\n${items.join('\n')}\n  </channel>\n</rss>\n`;
}

export function atom(entries: readonly Entry[]): string {
  const items = entries.map(
    (entry) =>
      `  <entry>\n    <title>${escapeXml(entry.title)}</title>\n    <link rel="alternate" href="${escapeXml(entry.url)}"/>\n    <id>${escapeXml(entry.url)}</id>\n    <published>${entry.date}</published>\n    <updated>${entry.date}</updated>\n  </entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n  <title>Test news</title>\n  <id>urn:test</id>\n  <updated>2026-12-07T00:00:00Z</updated>\n${items.join('\n')}\n</feed>\n`;
}

export function rdf(entries: readonly Entry[]): string {
  const items = entries.map(
    (entry) =>
      `  <item rdf:about="${escapeXml(entry.url)}">\n    <title>${escapeXml(entry.title)}</title>\n    <link>${escapeXml(entry.url)}</link>\n    <dc:date>${entry.date}</dc:date>\n  </item>`,
  );
  return `<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n  <channel rdf:about="http://example.test/">\n    <title>Test news</title>\n    <link>http://example.test/</link>\n    <description>d</description>\n  </channel>\n${items.join('\n')}\n</rdf:RDF>\n`;
}

export function jsonFeed(entries: readonly Entry[]): string {
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: 'Test news',
    items: entries.map((entry) => ({ id: entry.url, url: entry.url, title: entry.title, date_published: entry.date })),
  });
}

export function sitemap(entries: readonly Entry[]): string {
  const urls = entries.map((entry) => `  <url>\n    <loc>${escapeXml(entry.url)}</loc>\n    <lastmod>${entry.date}</lastmod>\n  </url>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join('\n')}\n</urlset>\n`;
}

export function newsSitemap(entries: readonly Entry[]): string {
  const urls = entries.map(
    (entry) =>
      `  <url>\n    <loc>${escapeXml(entry.url)}</loc>\n    <news:news>\n      <news:publication><news:name>Test</news:name><news:language>ar</news:language></news:publication>\n      <news:publication_date>${entry.date}</news:publication_date>\n      <news:title>${escapeXml(entry.title)}</news:title>\n    </news:news>\n  </url>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n${urls.join('\n')}\n</urlset>\n`;
}

export function sitemapIndex(locations: readonly string[]): string {
  const entries = locations.map((loc) => `  <sitemap><loc>${escapeXml(loc)}</loc></sitemap>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${entries.join('\n')}\n</sitemapindex>\n`;
}

/** Ten levels of ten: 10^10 `lol`s once expanded (the classic billion laughs). */
export function billionLaughs(): string {
  const entities = ['<!ENTITY lol0 "lol">'];
  for (let level = 1; level <= 10; level++) entities.push(`<!ENTITY lol${level} "${`&lol${level - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?>\n<!DOCTYPE rss [\n${entities.join('\n')}\n]>\n<rss version="2.0"><channel><title>&lol10;</title><item><title>&lol10;</title><link>http://example.test/a</link></item></channel></rss>\n`;
}
