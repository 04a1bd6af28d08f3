// Builds the sandbox playground into dist/ (see README.md).
//
//   dist/index.html                      served at /sandbox (not cacheable)
//   dist/assets/playground-<hash>.js     served at /sandbox/assets/... (immutable)
//   dist/assets/playground-<hash>.css
//   dist/assets/favicon-<hash>.svg
//   dist/assets/third-party-licenses-<hash>.txt
//   dist/**/<file>.gz, <file>.br         precompressed siblings (gzip -9, brotli q11)
//   dist/manifest.json                   every file, its content type and encodings
//
// <hash> is the first 12 hex digits of the file's SHA-256, so names change
// exactly when contents do. The build is deterministic: same inputs, same bytes.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';

import * as esbuild from 'esbuild';

const ROOT = dirname(fileURLToPath(import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const ASSETS = join(DIST, 'assets');
/** URL prefix under which the gateway serves dist/assets/. */
const ASSET_URL_PREFIX = '/sandbox/assets/';
/** URL at which the gateway serves dist/index.html. */
const INDEX_URL = '/sandbox';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

function sha256(buffer) {
  return createHash('sha256').update(buffer).digest('hex');
}

function extensionOf(name) {
  const dot = name.lastIndexOf('.');
  return dot === -1 ? '' : name.slice(dot);
}

function hashedName(stem, ext, contents) {
  return `${stem}-${sha256(contents).slice(0, 12)}${ext}`;
}

/** Bundles src/main.jsx into one JS and one CSS file, in memory. */
async function bundle() {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { playground: 'src/main.jsx' },
    bundle: true,
    write: false,
    outdir: 'out',
    entryNames: '[name]',
    format: 'iife',
    platform: 'browser',
    target: ['chrome109', 'edge109', 'firefox115', 'safari15.6'],
    minify: true,
    sourcemap: false,
    legalComments: 'none', // license texts ship in third-party-licenses-<hash>.txt
    charset: 'utf8',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.js': 'jsx' },
    metafile: true,
    logLevel: 'warning',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!js || !css || result.outputFiles.length !== 2) {
    throw new Error(`unexpected esbuild outputs: ${result.outputFiles.map((f) => f.path).join(', ')}`);
  }
  return { js: Buffer.from(js.contents), css: Buffer.from(css.contents), metafile: result.metafile };
}

/** The packages whose code ended up in the bundle, with their license texts. */
function thirdPartyLicenses(metafile) {
  const packageDirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const parts = input.split('/');
    const at = parts.lastIndexOf('node_modules');
    if (at === -1) continue;
    const nameParts = parts[at + 1].startsWith('@') ? parts.slice(at + 1, at + 3) : parts.slice(at + 1, at + 2);
    packageDirs.add(parts.slice(0, at + 1).concat(nameParts).join('/'));
  }
  const entries = [...packageDirs]
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
      const licenseFiles = readdirSync(join(ROOT, dir))
        .filter((f) => /^(licen[cs]e|copying|notice)(\.|$|-)/i.test(f))
        .sort();
      const texts = licenseFiles.map((f) => readFileSync(join(ROOT, dir, f), 'utf8').trim());
      const license = typeof pkg.license === 'string' ? pkg.license : JSON.stringify(pkg.license ?? 'UNKNOWN');
      return { name: pkg.name, version: pkg.version, license, texts };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rule = '='.repeat(78);
  let out =
    'Third-party software bundled in the Prep Gateway sandbox playground\n' +
    '(assets/playground-*.js and assets/playground-*.css).\n\n';
  for (const e of entries) out += `  ${e.name}@${e.version} (${e.license})\n`;
  for (const e of entries) {
    out += `\n${rule}\n${e.name}@${e.version}\nLicense: ${e.license}\n${rule}\n\n`;
    out += e.texts.length ? `${e.texts.join('\n\n')}\n` : `(The package ships no license file; see its package.json.)\n`;
  }
  return Buffer.from(out, 'utf8');
}

function compress(buffer, contentType) {
  const gzip = gzipSync(buffer, { level: 9 });
  const br = brotliCompressSync(buffer, {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: 11,
      [zlibConstants.BROTLI_PARAM_MODE]: contentType.startsWith('text/')
        ? zlibConstants.BROTLI_MODE_TEXT
        : zlibConstants.BROTLI_MODE_GENERIC,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: buffer.length,
    },
  });
  return { gzip, br };
}

function toPosix(path) {
  return path.split(sep).join('/');
}

async function main() {
  const { js, css, metafile } = await bundle();
  const favicon = readFileSync(join(SRC, 'favicon.svg'));
  const licenses = thirdPartyLicenses(metafile);

  const assets = [
    { name: hashedName('playground', '.js', js), contents: js },
    { name: hashedName('playground', '.css', css), contents: css },
    { name: hashedName('favicon', '.svg', favicon), contents: favicon },
    { name: hashedName('third-party-licenses', '.txt', licenses), contents: licenses },
  ];
  const url = (stem, ext) =>
    ASSET_URL_PREFIX + assets.find((a) => a.name.startsWith(`${stem}-`) && a.name.endsWith(ext)).name;

  const template = readFileSync(join(SRC, 'index.html'), 'utf8');
  const html = template
    .replace('{{JS}}', url('playground', '.js'))
    .replace('{{CSS}}', url('playground', '.css'))
    .replace('{{FAVICON}}', url('favicon', '.svg'))
    .replace('{{LICENSES}}', url('third-party-licenses', '.txt'));
  if (html.includes('{{')) throw new Error('index.html template has an unreplaced placeholder');
  const indexHtml = Buffer.from(html, 'utf8');

  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(ASSETS, { recursive: true });

  const files = [
    { path: 'index.html', urlPath: INDEX_URL, contents: indexHtml, immutable: false },
    ...assets.map((a) => ({
      path: `assets/${a.name}`,
      urlPath: ASSET_URL_PREFIX + a.name,
      contents: a.contents,
      immutable: true,
    })),
  ];

  const manifest = { files: [] };
  const rows = [];
  for (const file of files) {
    const contentType = CONTENT_TYPES[extensionOf(file.path)];
    if (!contentType) throw new Error(`no content type for ${file.path}`);
    const { gzip, br } = compress(file.contents, contentType);
    const target = join(DIST, file.path);
    writeFileSync(target, file.contents);
    writeFileSync(`${target}.gz`, gzip);
    writeFileSync(`${target}.br`, br);
    manifest.files.push({
      path: file.path,
      urlPath: file.urlPath,
      contentType,
      immutable: file.immutable,
      size: file.contents.length,
      sha256: sha256(file.contents),
      encodings: [
        { encoding: 'br', path: `${file.path}.br`, size: br.length },
        { encoding: 'gzip', path: `${file.path}.gz`, size: gzip.length },
      ],
    });
    rows.push([file.path, file.contents.length, gzip.length, br.length]);
  }
  writeFileSync(join(DIST, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  // The gateway embeds the bundle with this table (sandbox/src/playground.rs
  // includes it), so the Rust build needs no Node and no parsing.
  const at = (path) => `include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/playground/dist/${path}"))`;
  const table = manifest.files
    .map((f) => {
      const enc = Object.fromEntries(f.encodings.map((e) => [e.encoding, e.path]));
      return `    Asset {
        url_path: ${JSON.stringify(f.urlPath)},
        content_type: ${JSON.stringify(f.contentType)},
        immutable: ${f.immutable},
        etag: ${JSON.stringify(`"${f.sha256.slice(0, 32)}"`)},
        identity: ${at(f.path)},
        gzip: ${at(enc.gzip)},
        br: ${at(enc.br)},
    },`;
    })
    .join('\n');
  writeFileSync(
    join(DIST, 'assets.rs'),
    `// Generated by sandbox/playground/build.mjs from manifest.json: do not edit.\n&[\n${table}\n]\n`,
  );

  // Every file in dist/ must be the manifest itself or be named by it.
  const named = new Set(['manifest.json', 'assets.rs']);
  for (const f of manifest.files) {
    named.add(f.path);
    for (const e of f.encodings) named.add(e.path);
  }
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(join(dir, d.name)) : [toPosix(relative(DIST, join(dir, d.name)))],
    );
  const stray = walk(DIST).filter((p) => !named.has(p));
  if (stray.length) throw new Error(`files in dist/ missing from the manifest: ${stray.join(', ')}`);

  const pad = (s, n) => String(s).padStart(n);
  console.log(`${'file'.padEnd(52)}${pad('raw', 10)}${pad('gzip', 10)}${pad('brotli', 10)}`);
  for (const [path, raw, gz, br] of rows) console.log(`${path.padEnd(52)}${pad(raw, 10)}${pad(gz, 10)}${pad(br, 10)}`);
  const bundled = metafile.inputs ? Object.keys(metafile.inputs).length : 0;
  console.log(`\n${bundled} modules bundled; wrote ${toPosix(relative(ROOT, DIST))}/ (${walk(DIST).length} files).`);
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('dist/index.html missing');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
