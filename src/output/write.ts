/**
 * Kept only for src/run/pipeline.ts while another change splits it: the outputs are now in schema.ts,
 * json.ts, markdown.ts and manifest.ts. Delete this file once pipeline's pieces import those.
 */
export { articleJsonText, renderArticleJson } from './json.js';
export { manifestLine, outputFileNames, type OutputFiles } from './manifest.js';
export { renderArticleMarkdown } from './markdown.js';
export { articleOutputSchema, manifestLineSchema, type ArticleOutput } from './schema.js';
