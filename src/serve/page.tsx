// JSX settings in the file as well as in tsconfig.json, so tsx compiles it right from any working directory.
/** @jsxRuntime automatic @jsxImportSource preact */
import { languageName, renderPage } from '../output/html-page.js';

/**
 * `GET /`: a form to paste an article (or drop a file on it) and read it beside its English. The form
 * posts to `/v1/articles?format=html`, whose answer is the same bilingual page `run` writes, so it
 * works without JavaScript; the one script (`/page.js`, of this origin only) reads a dropped file
 * into the form.
 */
const PAGE_CSS = `
form { display: grid; gap: .75rem; margin: 1rem 0; }
textarea {
  width: 100%; min-height: 18rem; padding: .6rem; font: inherit; color: inherit;
  background: var(--panel); border: 1px solid var(--rule); border-radius: .3rem;
}
textarea.dropping { outline: 2px dashed var(--accent); }
.row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
button { font: inherit; padding: .4rem 1.2rem; border-radius: .3rem; border: 1px solid var(--accent); background: var(--accent); color: var(--bg); cursor: pointer; }
input[type=password], select { font: inherit; color: inherit; background: var(--panel); border: 1px solid var(--rule); border-radius: .3rem; padding: .25rem .4rem; }
`;

export interface FormPageOptions {
  languages: readonly string[];
  /** Show the API key field (the server has keys). */
  keys: boolean;
}

export function renderFormPage({ languages, keys }: FormPageOptions): string {
  const names = languages.map((lang) => `${languageName(lang)} (${lang})`).join(', ');
  return renderPage({
    title: 'newsbridge: read an article in English',
    css: PAGE_CSS,
    allow: { formToSelf: true, scriptsFromSelf: true },
    children: (
      <main>
        <h1>Read an article in English</h1>
        <p class="muted">
          Paste an article (its first line is taken as the title) or drop a text or HTML file on the box. Languages with a model:{' '}
          {names || 'none loaded'}.
        </p>
        <form method="post" action="/v1/articles?format=html" accept-charset="utf-8">
          <label for="text">Article</label>
          <textarea id="text" name="text" required dir="auto" spellcheck={false} />
          <div class="row">
            <label>
              Format{' '}
              <select id="kind" name="kind">
                <option value="text">plain text</option>
                <option value="html">a web page (HTML)</option>
              </select>
            </label>
            {keys && (
              <label>
                API key <input type="password" name="api_key" autocomplete="off" />
              </label>
            )}
            <button type="submit">Translate</button>
          </div>
        </form>
        <script src="/page.js" defer />
      </main>
    ),
  });
}

/** `/page.js`: a file dropped on the box is read into it (as text; an .html file switches the format). */
export const PAGE_SCRIPT = `'use strict';
const box = document.getElementById('text');
const kind = document.getElementById('kind');
box.addEventListener('dragover', (event) => { event.preventDefault(); box.classList.add('dropping'); });
box.addEventListener('dragleave', () => box.classList.remove('dropping'));
box.addEventListener('drop', async (event) => {
  event.preventDefault();
  box.classList.remove('dropping');
  const file = event.dataTransfer && event.dataTransfer.files[0];
  if (!file) return;
  box.value = await file.text();
  kind.value = /\\.html?$/i.test(file.name) ? 'html' : 'text';
});
`;
