import { Parser } from 'htmlparser2';
import { hasLetters } from './text-format.js';

/** The text runs of an HTML fragment, and how to put their English back with every byte of markup kept. */
export interface HtmlPlan {
  /** Each run of text between tags, entities decoded; runs without letters or in kept elements are left out. */
  texts: string[];
  /** The input with each listed run replaced by its translation, escaped; everything else byte for byte. */
  assemble(translations: readonly string[]): string;
}

/** Elements whose content is code or style, not prose: never sent to a model. */
const CODE_ELEMENTS = new Set(['script', 'style']);

interface OpenElement {
  name: string;
  /** Inside `translate="no"`, `class="notranslate"` or code: its text is kept as it is. */
  keep: boolean;
}

/**
 * `format: html`, the way LibreTranslate translates HTML: the text between tags is translated and
 * nothing else changes. htmlparser2 (a tokenizer that follows the HTML spec's states) finds the text
 * runs by their offsets, so every tag, attribute, comment and entity outside them comes back exactly
 * as sent. A translation is written back escaped (`&`, `<`, `>`), so model output can never become
 * markup: the output holds the markup the input held, and no more. `translate="no"` and the
 * `notranslate` class (Google's and Mastodon's convention) keep an element's text, as do scripts and
 * stylesheets; `translate="yes"` inside them turns translation back on, as the HTML spec says.
 */
export function planHtml(html: string): HtmlPlan {
  const runs: { start: number; end: number; text: string; keep: boolean }[] = [];
  const open: OpenElement[] = [];
  const parser = new Parser({
    onopentag(name, attributes) {
      const parentKeep = open.at(-1)?.keep ?? false;
      const classes = (attributes.class ?? '').split(/\s+/);
      const translate = attributes.translate?.toLowerCase();
      const keep =
        translate === 'no' ? true : translate === 'yes' ? false : parentKeep || classes.includes('notranslate') || CODE_ELEMENTS.has(name);
      open.push({ name, keep });
    },
    onclosetag(name) {
      const at = open.findLastIndex((element) => element.name === name);
      if (at >= 0) open.length = at;
    },
    ontext(text) {
      const start = parser.startIndex;
      const end = parser.endIndex + 1;
      const keep = open.at(-1)?.keep ?? false;
      const last = runs.at(-1);
      // The tokenizer reports a run in pieces around each entity: one run of text is one piece to translate.
      if (last && last.end === start && last.keep === keep) {
        last.end = end;
        last.text += text;
      } else runs.push({ start, end, text, keep });
    },
  });
  parser.end(html);
  const translated = runs.filter((run) => !run.keep && hasLetters(run.text));
  return {
    texts: translated.map((run) => run.text),
    assemble(translations) {
      let out = '';
      let from = 0;
      translated.forEach((run, index) => {
        out += html.slice(from, run.start) + escapeText(translations[index] ?? run.text);
        from = run.end;
      });
      return out + html.slice(from);
    },
  };
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
