// A real OpenID provider for the gateway's integration tests.
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG: { "port", "issuer", "clients": [oidc-provider client metadata],
//           "users": { "<login>": { email, email_verified, name, groups } } }
//
// Prints exactly one line, `ready`, to stdout once listening on
// 127.0.0.1:port. Every start generates a new RS256 signing key with a random
// `kid`, so restarting on the same port simulates a key rotation at the IdP.
// Everything lives in memory: a restart also forgets sessions, codes and
// grants. Errors go to stderr; nothing else is logged.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

// oidc-provider nags about development defaults and the runtime version on
// stdout (console.info) and stderr (console.warn), some of it at import time;
// the test harness wants stdout to carry `ready` only and stderr to carry
// errors only, so the console is quieted before the module is loaded.
console.info = () => {};
console.warn = () => {};
console.log = () => {};

const { default: Provider } = await import('oidc-provider');

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node provider.mjs CONFIG.json');
  process.exit(2);
}

const config = JSON.parse(readFileSync(configPath, 'utf8'));
const { port, issuer } = config;
const users = config.users ?? {};

const html = (value) => String(value)
  .replaceAll('&', '&amp;')
  .replaceAll('<', '&lt;')
  .replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;')
  .replaceAll("'", '&#39;');

const page = (title, body) => `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>${html(title)}</title></head>
<body>
<h1>${html(title)}</h1>
${body}
</body>
</html>`;

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: randomUUID(),
    alg: 'RS256',
    use: 'sig',
  };
}

const clients = (config.clients ?? []).map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...client,
}));

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey()] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  responseTypes: ['code'],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        // `form` is `<form id="op.logoutForm" ...><input name="xsrf"/></form>`;
        // the confirmation lives inside the form so a headless client can
        // submit it as it stands.
        const action = ctx.oidc.urlFor('end_session_confirm');
        const xsrf = /name="xsrf" value="([^"]*)"/.exec(form)?.[1] ?? '';
        ctx.type = 'html';
        ctx.body = page('Sign out', `<form id="op.logoutForm" method="post" action="${html(action)}">
<input type="hidden" name="xsrf" value="${html(xsrf)}"/>
<input type="hidden" name="logout" value="yes"/>
<button type="submit">Yes, sign me out</button>
</form>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Signed out', '<p>You are signed out.</p>');
      },
    },
  },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(users, id)) {
      return undefined;
    }
    const user = users[id];
    return {
      accountId: id,
      async claims() {
        return { ...user, sub: id };
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre id="error">${html(out.error)}: ${html(out.error_description ?? '')}</pre>`);
  },
});

provider.on('server_error', (ctx, err) => {
  console.error('server_error', ctx?.method, ctx?.path, err);
});

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginPage(uid, error, loginHint) {
  const message = error ? `<p id="error">${html(error)}</p>\n` : '';
  return page('Sign-in', `${message}<form method="post" action="/interaction/${html(uid)}/login">
<input type="hidden" name="prompt" value="login"/>
<input required type="text" name="login" value="${html(loginHint ?? '')}"/>
<input required type="password" name="password" value=""/>
<button type="submit">Sign-in</button>
</form>`);
}

function consentPage(uid, details, clientId) {
  const scopes = (details.missingOIDCScope ?? []).map((s) => `<li>${html(s)}</li>`).join('');
  return page('Authorize', `<p>${html(clientId)} asks for:</p>
<ul>${scopes}</ul>
<form method="post" action="/interaction/${html(uid)}/confirm">
<input type="hidden" name="prompt" value="consent"/>
<button type="submit">Continue</button>
</form>`);
}

// A minimal interaction: a login form (any password, the login must be a
// configured user), then a consent form granting what the client asked for.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)(?:\/(login|confirm))?$/.exec(ctx.path);
  if (!match) {
    await next();
    return;
  }
  const [, uid, action] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) {
    ctx.throw(400, 'interaction mismatch');
  }
  const { prompt, params } = details;
  ctx.set('cache-control', 'no-store');

  if (ctx.method === 'GET' && !action) {
    ctx.type = 'html';
    if (prompt.name === 'login') {
      ctx.body = loginPage(uid, undefined, params.login_hint);
    } else if (prompt.name === 'consent') {
      ctx.body = consentPage(uid, prompt.details, params.client_id);
    } else {
      ctx.throw(501, `prompt ${prompt.name} not implemented`);
    }
    return;
  }

  if (ctx.method === 'POST' && action === 'login') {
    if (prompt.name !== 'login') {
      ctx.throw(400, 'not at the login prompt');
    }
    const form = await readForm(ctx.req);
    const login = form.get('login') ?? '';
    if (!Object.hasOwn(users, login)) {
      ctx.type = 'html';
      ctx.status = 200;
      ctx.body = loginPage(uid, `unknown user ${login}`, login);
      return;
    }
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: login },
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (ctx.method === 'POST' && action === 'confirm') {
    if (prompt.name !== 'consent') {
      ctx.throw(400, 'not at the consent prompt');
    }
    await readForm(ctx.req);
    const { grantId, session } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) {
      grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    }
    if (missing.missingOIDCClaims) {
      grant.addOIDCClaims(missing.missingOIDCClaims);
    }
    if (missing.missingResourceScopes) {
      for (const [indicator, scope] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scope.join(' '));
      }
    }
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, {
      consent: { grantId: await grant.save() },
    }, { mergeWithLastSubmission: true });
    return;
  }

  ctx.throw(405, 'method not allowed');
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
server.on('error', (err) => {
  console.error('listen failed:', err);
  process.exit(1);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
