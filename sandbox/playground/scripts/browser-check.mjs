// End-to-end check of the built page in headless Chromium through
// chromedriver (plain W3C WebDriver over HTTP, no npm dependency). It drives
// the page with the same selectors a gateway browser test would use.
//
//   node scripts/serve.mjs --mock --port 8787 &
//   chromedriver --port=9515 &
//   node scripts/browser-check.mjs [--base http://127.0.0.1:8787] [--driver http://127.0.0.1:9515]
//
// Needs the mock gateway of scripts/serve.mjs (it creates sandboxes, rate
// limits on request, ...). Exits non-zero on the first failed check and on
// any Content-Security-Policy violation logged by the browser.

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const BASE = option('--base', 'http://127.0.0.1:8787');
const DRIVER = option('--driver', 'http://127.0.0.1:9515');
const CHROME = option('--chrome', '/usr/bin/chromium');
const SCREENSHOT = option('--screenshot', null);

let sessionId = null;
let passed = 0;

async function wd(method, path, body) {
  const url = `${DRIVER}${sessionId ? `/session/${sessionId}` : ''}${path}`;
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value).slice(0, 500)}`);
  return json.value;
}

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const exec = (script, ...scriptArgs) => wd('POST', '/execute/sync', { script, args: scriptArgs });
const find = async (css) => (await wd('POST', '/element', { using: 'css selector', value: css }))[ELEMENT];
const click = async (css) => wd('POST', `/element/${await find(css)}/click`, {});
const text = async (css) => wd('GET', `/element/${await find(css)}/text`);
const sendKeys = async (css, keys) => wd('POST', `/element/${await find(css)}/value`, { text: keys });

async function waitFor(description, fn, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${description} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  passed += 1;
  console.log(`ok - ${message}`);
}

// The selectors and snippets a browser test needs (see README.md).
const SET_QUERY = `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(arguments[0]);`;
const HEADERS_CM = `document.querySelector('.graphiql-editor-tool > .graphiql-editor:nth-child(2) .CodeMirror').CodeMirror`;
const SET_HEADERS = `${HEADERS_CM}.setValue(arguments[0]);`;
const GET_HEADERS = `return ${HEADERS_CM}.getValue();`;
const GET_RESULT = `const cm = document.querySelector('.graphiql-response .CodeMirror'); return cm ? cm.CodeMirror.getValue() : null;`;
const IS_FETCHING = `return !!document.querySelector('.graphiql-execute-button[aria-label^="Stop"], .graphiql-response .graphiql-spinner');`;

async function runQuery(query) {
  await exec(SET_QUERY, query);
  // GraphiQL re-parses the document (operation name, ...) 100 ms after an
  // edit: clicking Run sooner would send the previous tab's operationName.
  await new Promise((r) => setTimeout(r, 250));
  await exec(`document.querySelector('.graphiql-response .CodeMirror').CodeMirror.setValue('');`);
  await click('.graphiql-execute-button');
  const raw = await waitFor('a result', async () => {
    const value = await exec(GET_RESULT);
    return value && !(await exec(IS_FETCHING)) ? value : null;
  });
  return JSON.parse(raw);
}

async function main() {
  const session = await wd('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        browserName: 'chrome',
        'goog:chromeOptions': {
          binary: CHROME,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--window-size=1400,900',
          ],
        },
        'goog:loggingPrefs': { browser: 'ALL' },
      },
    },
  });
  sessionId = session.sessionId;
  try {
    const started = Date.now();
    await wd('POST', '/url', { url: `${BASE}/sandbox` });
    // Milliseconds from navigation start until the query editor exists
    // (an upper bound: polled every animation frame).
    const editorAt = await wd('POST', '/execute/async', {
      script: `const done = arguments[arguments.length - 1];
        const poll = () => document.querySelector('.graphiql-query-editor .CodeMirror') ? done(performance.now()) : requestAnimationFrame(poll);
        poll();`,
      args: [],
    });
    const timing = await exec(
      `const n = performance.getEntriesByType('navigation')[0]; return { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd };`,
    );
    console.log(`# page: DOMContentLoaded ${Math.round(timing.domContentLoaded)} ms, load ${Math.round(timing.load)} ms, editor rendered by ${Math.round(editorAt)} ms (cold profile; WebDriver total ${Date.now() - started} ms)`);
    if (editorAt >= 1000) console.log('# WARN: GraphiQL took over 1 s to render (a busy machine?)');
    check((await wd('GET', '/title')) === 'Prep Gateway — Sandbox', 'page title');
    check((await text('[data-testid="create-sandbox-button"]')) === 'Create my sandbox', 'fresh browser shows "Create my sandbox"');
    check((await exec(`return document.querySelectorAll('.graphiql-tab').length`)) >= 4, 'four example tabs');

    // Create a sandbox.
    await click('[data-testid="create-sandbox-button"]');
    await waitFor('progress banner', async () => (await exec(`return document.querySelector('[data-testid="status-banner"]').dataset.kind`)) === 'progress');
    const slug = await waitFor('tenant slug', () => exec(`return document.querySelector('[data-testid="tenant-slug"]')?.textContent`));
    check(slug.startsWith('sbx-'), `sandbox created (${slug})`);
    const stored = JSON.parse(await exec(`return localStorage.getItem('prep.sandbox')`));
    check(stored.sandboxKey && stored.token && stored.tokenExpiresAt && stored.tenant.slug === slug, 'session persisted in localStorage prep.sandbox');
    for (const id of ['new-token-button', 'connector-dialog-button', 'reset-button']) {
      check(Boolean(await find(`[data-testid="${id}"]`)), `${id} present`);
    }

    // Run an example through the editor.
    await waitFor('schema loaded', () => exec(`return !document.querySelector('.graphiql-sidebar .graphiql-spin')`));
    let result = await runQuery('query NonCompliantLocations { locations(first: 20, filter: { complianceStatuses: [NON_COMPLIANT] }) { totalCount nodes { storeNumber complianceStatus } } }');
    check(result.data.locations.nodes[0].complianceStatus === 'NON_COMPLIANT', 'query ran with the sandbox token');
    check(/Cost/.test(await text('[data-testid="cost-summary"]')), 'cost summary shown from extensions.cost');

    // Connector credentials.
    await click('[data-testid="connector-dialog-button"]');
    await find('[data-testid="connector-dialog"]');
    await click('[data-testid="connector-scope-compliance:read"]');
    await wd('POST', `/element/${await find('[data-testid="connector-name-input"]')}/clear`, {});
    await sendKeys('[data-testid="connector-name-input"]', 'Test connector');
    await click('[data-testid="connector-submit-button"]');
    const apiKey = await waitFor('api key', () => exec(`return document.querySelector('[data-testid="connector-api-key"]')?.value`));
    check(apiKey.startsWith('prep_ck_'), 'connector API key shown');
    await click('[data-testid="connector-use-key-button"]');
    const headers = JSON.parse(await waitFor('headers', () => exec(GET_HEADERS)));
    check(headers.Authorization === `Bearer ${apiKey}`, 'headers editor now holds the connector key');
    check(!(await exec(`return !!document.querySelector('[data-testid="connector-dialog"]')`)), 'dialog closed (key not shown again)');
    result = await runQuery('{ rateLimit { remaining } }');
    check(result.data.rateLimit.remaining > 0, 'query ran with the connector key');

    // A foreign credential in the headers editor: the banner explains it.
    await exec(SET_HEADERS, '{"Authorization": "Bearer not-a-real-token"}');
    result = await runQuery('{ rateLimit { remaining } }');
    check(result.errors[0].extensions.code === 'UNAUTHENTICATED', '401 result still shown in the result pane');
    check((await exec(`return document.querySelector('[data-testid="status-banner"]').dataset.kind`)) === 'auth', 'auth banner shown');
    check(Boolean(await find('[data-testid="banner-new-token-button"]')), 'auth banner offers New token');

    // Rate limited.
    await exec(SET_HEADERS, '{"x-mock-rate-limit": "1"}');
    result = await runQuery('{ rateLimit { remaining } }');
    const rateText = await text('[data-testid="status-banner"]');
    check(/Rate limited, retry in [67] s/.test(rateText), `rate-limit banner: "${rateText.split('\n')[0]}"`);
    await exec(SET_HEADERS, '');

    // New token.
    const oldToken = stored.token;
    await click('[data-testid="new-token-button"]');
    await waitFor('new token', async () => JSON.parse(await exec(`return localStorage.getItem('prep.sandbox')`)).token !== oldToken);
    check((await exec(`return document.querySelector('[data-testid="status-banner"]').dataset.kind`)) === 'success', 'new token issued');

    // Reset, with the confirm dialog.
    await click('[data-testid="reset-button"]');
    await click('[data-testid="reset-dialog-confirm"]');
    await waitFor('reset done', async () => /reset to its seed/.test(await text('[data-testid="status-banner"]')));
    check(true, 'sandbox reset after confirmation');

    // Expired token + valid key: refreshed on load.
    await exec(`const s = JSON.parse(localStorage.getItem('prep.sandbox')); s.tokenExpiresAt = '2020-01-01T00:00:00Z'; s.token = 'stale'; localStorage.setItem('prep.sandbox', JSON.stringify(s));`);
    await wd('POST', '/refresh', {});
    await waitFor('token refreshed on load', async () => JSON.parse(await exec(`return localStorage.getItem('prep.sandbox')`)).token !== 'stale');
    check(true, 'expired token replaced on load using the sandbox key');

    // Expired token + unknown key: clear message, never a blank page.
    await exec(`localStorage.setItem('prep.sandbox', JSON.stringify({tenant: {id: 't', slug: 'sbx-gone', name: 'x'}, sandboxKey: 'prep_sbx_unknown', token: 'stale', tokenExpiresAt: '2020-01-01T00:00:00Z'}));`);
    await wd('POST', '/refresh', {});
    const invalid = await waitFor('invalid key message', async () => {
      const t = await text('[data-testid="status-banner"]');
      return /no longer valid/.test(t) ? t : null;
    });
    check(invalid.startsWith('This sandbox key is no longer valid (expired or not a sandbox credential). Create a new sandbox.'), 'invalid sandbox key message');
    check(Boolean(await find('[data-testid="create-sandbox-button"]')), 'create button offered again');
    check(Boolean(await find('.graphiql-query-editor .CodeMirror')), 'GraphiQL still rendered');

    if (SCREENSHOT) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(SCREENSHOT, Buffer.from(await wd('GET', '/screenshot'), 'base64'));
    }

    const logs = await wd('POST', '/se/log', { type: 'browser' }).catch(() => []);
    const csp = logs.filter((l) => /Content Security Policy|Refused to/i.test(l.message));
    for (const l of logs) console.log(`# browser ${l.level}: ${l.message.slice(0, 200)}`);
    check(csp.length === 0, 'no Content-Security-Policy violations');
    const offsite = await exec(
      `return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin));`,
    );
    check(offsite.length === 0, `no request left the origin ${offsite.join(' ')}`);
    console.log(`\n${passed} passed, 0 failed`);
  } finally {
    await wd('DELETE', '', undefined).catch(() => {});
  }
}

main().catch((error) => {
  console.error(`not ok - ${error.message}`);
  console.log(`\n${passed} passed, 1 failed`);
  process.exit(1);
});
