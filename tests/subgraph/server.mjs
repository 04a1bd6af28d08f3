// A real Apollo Federation v2 subgraph for the gateway's black-box tests: the
// "regulatory" service, built with @apollo/subgraph and served by node:http.
//
//   PORT=0 JWKS_URL=http://127.0.0.1:G/.well-known/jwks.json ISSUER=http://127.0.0.1:G \
//     node tests/subgraph/server.mjs
//
// Env: PORT (0 picks a free port), JWKS_URL and ISSUER (the gateway's),
// AUDIENCE (default `regulatory`), SLOW_MS (default 3000, the `slow` mode's
// delay). Listens on 127.0.0.1 and prints exactly one line, `ready <port>`,
// to stdout once listening; errors go to stderr; SIGTERM exits cleanly.
//
// Identity: the gateway calls with `Authorization: Bearer <JWT>` that it
// signs with Ed25519 (EdDSA) and publishes in its JWKS. Every POST must carry
// one that verifies (issuer ISSUER, audience AUDIENCE); anything else is a 401
// with an UNAUTHENTICATED GraphQL error, so a test sees a gateway that forgets
// or forges the token fail loudly. The one exception is a document selecting
// nothing but `_service` (and `__typename`) sent without an Authorization
// header: the gateway composes from `{ _service { sdl } }` at start-up, before
// it calls on anyone's behalf. A token that is present is always verified.
//
// Routes:
//   POST /graphql                   the subgraph
//   POST /misbehave/<mode>/graphql  the same, then misbehaving (see MODES);
//                                   `_service` documents are answered normally
//   GET  /healthz                   200
//   GET  /last-request              { headers, claims, query, variables } of
//                                   the last POST (header names lower-case)
//   GET  /stats                     { requests, verified, rejected }: POSTs
//                                   seen, tokens verified, tokens refused
//
// Everything is deterministic so tests can predict it: healthScore is the
// first two bytes of SHA-256(id), big-endian, modulo 101; each Location has
// two notices, `<id>-n1` (LOW) and `<id>-n2` (HIGH), whose titles name the
// location id and the tenant (`tid`) the subgraph believed it served.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, Kind, parse } from 'graphql';
import { createRemoteJWKSet, jwtVerify } from 'jose';

// The fields are nullable, as a service's fields in a federated API should
// be: when this service fails, the gateway's own data still arrives.
const SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

type Location @key(fields: "id") {
  id: ID!
  "A deterministic score 0-100: the first two bytes of SHA-256(id), big-endian, modulo 101."
  healthScore: Int
  "Two deterministic notices whose titles name the location id and the caller's tenant."
  notices: [Notice!]
}

type Notice {
  id: ID!
  title: String!
  severity: Severity!
}

enum Severity {
  LOW
  HIGH
}

type Caller {
  tenant: ID!
  subject: ID!
  requestId: String
  scopes: [String!]!
}

type Query {
  "The verified identity of the gateway's call (from the signed token)."
  regulatoryCaller: Caller
  "Deterministic bulletins addressed to the caller's tenant."
  regulatoryBulletins(first: Int = 3): [Notice!]
}
`;

// The most bulletins one query returns, whatever `first` asks.
const MAX_BULLETINS = 100;
// The `huge` mode's padding: about 20 MB of response.
const HUGE_BYTES = 20 * 1024 * 1024;
// The largest request body read; more is a 413.
const MAX_BODY_BYTES = 10 * 1024 * 1024;
// What `inject` smuggles into responses.
const LEAK = 'secret-of-other-tenant';

const env = process.env;
const port = Number(env.PORT ?? 0);
const issuer = env.ISSUER;
const audience = env.AUDIENCE || 'regulatory';
const slowMs = Number(env.SLOW_MS ?? 3000);
if (!env.JWKS_URL || !issuer || !Number.isInteger(port) || port < 0) {
  console.error('usage: PORT=<port|0> JWKS_URL=<url> ISSUER=<iss> [AUDIENCE=regulatory] [SLOW_MS=3000] node server.mjs');
  process.exit(2);
}
const jwks = createRemoteJWKSet(new URL(env.JWKS_URL));

function healthScore(id) {
  return createHash('sha256').update(String(id)).digest().readUInt16BE(0) % 101;
}

function tenantOf(ctx) {
  if (!ctx.claims) {
    throw unauthenticated('no verified caller');
  }
  return String(ctx.claims.tid ?? '');
}

// The `huge` mode's tail for the first string that asks, '' for the rest.
function pad(ctx) {
  const tail = ctx.padding.tail ?? '';
  ctx.padding.tail = undefined;
  return tail;
}

function unauthenticated(message) {
  const error = new Error(message);
  error.extensions = { code: 'UNAUTHENTICATED' };
  return error;
}

const resolvers = {
  Query: {
    regulatoryCaller(_, __, ctx) {
      tenantOf(ctx);
      const { tid, sub, rid, scope } = ctx.claims;
      return {
        tenant: tid,
        subject: sub,
        requestId: rid == null ? null : String(rid),
        scopes: typeof scope === 'string' ? scope.split(/\s+/).filter(Boolean) : [],
      };
    },
    regulatoryBulletins(_, { first }, ctx) {
      const tenant = tenantOf(ctx);
      const count = Math.max(0, Math.min(first ?? 3, MAX_BULLETINS));
      return Array.from({ length: count }, (_, i) => ({
        id: `bulletin-${i + 1}`,
        title: `Bulletin ${i + 1} for tenant ${tenant}`,
        severity: i % 2 === 0 ? 'LOW' : 'HIGH',
      }));
    },
  },
  Caller: {
    requestId(caller, _, ctx) {
      return caller.requestId === null ? null : caller.requestId + pad(ctx);
    },
  },
  Notice: {
    title(notice, _, ctx) {
      return notice.title + pad(ctx);
    },
  },
  Location: {
    // Any id is a location: the gateway owns which ids exist.
    __resolveReference(reference) {
      return { id: reference.id };
    },
    healthScore(location) {
      return healthScore(location.id);
    },
    notices(location, _, ctx) {
      const tenant = tenantOf(ctx);
      return [
        { id: `${location.id}-n1`, title: `Inspection due at ${location.id} for tenant ${tenant}`, severity: 'LOW' },
        { id: `${location.id}-n2`, title: `Permit renewal for ${location.id} for tenant ${tenant}`, severity: 'HIGH' },
      ];
    },
  },
};

const schema = buildSubgraphSchema({ typeDefs: parse(SDL), resolvers });

const stats = { requests: 0, verified: 0, rejected: 0 };
let lastRequest = { headers: [], claims: null, query: null, variables: null };
// Responses the `hang` mode holds open, ended at shutdown.
const hanging = new Set();

// Whether `query` selects nothing but `_service` (and `__typename`): the
// composition query, which the gateway may send before it has a caller.
function isServiceOnly(query) {
  if (typeof query !== 'string' || !query.includes('_service')) {
    return false;
  }
  let document;
  try {
    document = parse(query);
  } catch {
    return false;
  }
  return document.definitions.every((definition) =>
    definition.kind === Kind.OPERATION_DEFINITION
    && definition.operation === 'query'
    && definition.selectionSet.selections.every((selection) =>
      selection.kind === Kind.FIELD
      && (selection.name.value === '_service' || selection.name.value === '__typename')));
}

function send(res, status, body, contentType = 'application/json; charset=utf-8', headers = {}) {
  const payload = Buffer.isBuffer(body) ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  res.writeHead(status, { 'content-type': contentType, 'content-length': payload.length, ...headers });
  res.end(payload);
}

function graphqlError(res, status, message, code, headers) {
  send(res, status, { errors: [{ message, extensions: { code } }] }, undefined, headers);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// The verified claims of the request's bearer token, or a reason it has none.
async function verify(req) {
  const header = req.headers.authorization;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) {
    return { error: header ? 'malformed Authorization header' : 'missing bearer token' };
  }
  try {
    const { payload } = await jwtVerify(match[1], jwks, { issuer, audience, algorithms: ['EdDSA'] });
    return { claims: payload };
  } catch (err) {
    if (err?.code === 'ERR_JWKS_TIMEOUT' || !err?.code) {
      console.error('token verification failed:', err);
    }
    return { error: `invalid token: ${err?.code ?? 'error'}: ${err?.message ?? err}` };
  }
}

// `padding`, for the `huge` mode, is `{ tail }`: the first padded string
// resolved takes the tail.
async function execute(body, claims, padding = {}) {
  return graphql({
    schema,
    source: body.query,
    variableValues: body.variables ?? undefined,
    operationName: body.operationName ?? undefined,
    contextValue: { claims, padding },
  });
}

// Each misbehaviour takes the parsed request and the verified claims and
// answers (or, for `hang`, never does).
const MODES = {
  // Answers correctly, SLOW_MS late.
  async slow(res, body, claims) {
    await new Promise((resolve) => setTimeout(resolve, slowMs));
    if (!res.destroyed) {
      send(res, 200, await execute(body, claims));
    }
  },
  // Never answers; the connection stays open until the client gives up.
  async hang(res) {
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
  },
  // 200, says JSON, is not.
  async garbage(res) {
    send(res, 200, 'this is not json');
  },
  // A server error with a text body.
  async status500(res) {
    send(res, 500, 'internal server error (misbehave/status500)', 'text/plain; charset=utf-8');
  },
  // Valid JSON of the wrong shape for any query.
  async 'wrong-shape'(res) {
    send(res, 200, '{"data":{"_entities":"not a list","regulatoryBulletins":7}}');
  },
  // The correct answer, about 20 MB long: the first `Notice.title` or
  // `Caller.requestId` resolved grows a tail of `x`s (with neither selected,
  // `extensions.padding` carries them), so the response stays valid.
  async huge(res, body, claims) {
    const padding = { tail: 'x'.repeat(HUGE_BYTES) };
    const result = await execute(body, claims, padding);
    if (padding.tail) {
      result.extensions = { ...result.extensions, padding: padding.tail };
    }
    send(res, 200, result);
  },
  // The correct answer plus what another tenant should never see: two extra
  // `_entities` beyond the representations sent, `leaked` on every object in
  // `data`, and a top-level `otherTenant`.
  async inject(res, body, claims) {
    const result = await execute(body, claims);
    if (result.data && typeof result.data === 'object') {
      const entities = result.data._entities;
      if (Array.isArray(entities)) {
        const template = entities.find((e) => e && typeof e === 'object') ?? { __typename: 'Location' };
        for (let i = 1; i <= 2; i += 1) {
          entities.push({ ...structuredClone(template), ...('id' in template ? { id: `injected-${i}` } : {}) });
        }
      }
      for (const value of Object.values(result.data)) {
        addLeak(value);
      }
      result.data.otherTenant = { tenant: 'other-tenant', secret: LEAK, locations: [{ id: 'other-location', leaked: LEAK }] };
      result.data.__schema = { queryType: { name: LEAK } };
      result.data.__type = { name: LEAK };
    }
    send(res, 200, result);
  },
};

function addLeak(node) {
  if (Array.isArray(node)) {
    node.forEach(addLeak);
  } else if (node && typeof node === 'object') {
    for (const value of Object.values(node)) {
      addLeak(value);
    }
    node.leaked = LEAK;
  }
}

async function handleGraphql(req, res, mode) {
  stats.requests += 1;
  const raw = await readBody(req);
  const headers = [...new Set(req.rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase()))];
  lastRequest = { headers, claims: null, query: null, variables: null };
  if (raw === null) {
    graphqlError(res, 413, 'request body too large', 'BAD_REQUEST');
    return;
  }
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    body = null;
  }
  const valid = body && typeof body === 'object' && typeof body.query === 'string';
  lastRequest.query = valid ? body.query : null;
  lastRequest.variables = valid ? (body.variables ?? null) : null;

  const serviceOnly = valid && isServiceOnly(body.query);
  let claims = null;
  if (!(serviceOnly && req.headers.authorization === undefined)) {
    const outcome = await verify(req);
    if (outcome.error) {
      stats.rejected += 1;
      graphqlError(res, 401, outcome.error, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer' });
      return;
    }
    stats.verified += 1;
    claims = outcome.claims;
    lastRequest.claims = claims;
  }
  if (!valid) {
    graphqlError(res, 400, 'the body must be JSON with a string `query`', 'BAD_REQUEST');
    return;
  }
  if (mode && !serviceOnly) {
    await MODES[mode](res, body, claims);
    return;
  }
  send(res, 200, await execute(body, claims));
}

const server = createServer(async (req, res) => {
  try {
    const path = new URL(req.url, 'http://localhost').pathname;
    const misbehave = /^\/misbehave\/([^/]+)\/graphql$/.exec(path);
    if (req.method === 'GET' && path === '/healthz') {
      send(res, 200, 'ok\n', 'text/plain; charset=utf-8');
    } else if (req.method === 'GET' && path === '/last-request') {
      send(res, 200, lastRequest);
    } else if (req.method === 'GET' && path === '/stats') {
      send(res, 200, stats);
    } else if (path === '/graphql' || (misbehave && Object.hasOwn(MODES, misbehave[1]))) {
      if (req.method !== 'POST') {
        graphqlError(res, 405, 'POST a JSON body', 'BAD_REQUEST', { allow: 'POST' });
        return;
      }
      await handleGraphql(req, res, misbehave?.[1]);
    } else {
      send(res, 404, 'not found\n', 'text/plain; charset=utf-8');
    }
  } catch (err) {
    console.error('request failed:', req.method, req.url, err);
    if (!res.headersSent) {
      send(res, 500, 'internal error\n', 'text/plain; charset=utf-8');
    } else {
      res.destroy();
    }
  }
});

server.on('error', (err) => {
  console.error('listen failed:', err);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});

function shutdown() {
  for (const res of hanging) {
    res.destroy();
  }
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
