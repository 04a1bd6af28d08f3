// Serves dist/ the way the gateway does, for trying the page without the
// gateway (development and browser checks only; not part of the build).
//
//   node scripts/serve.mjs [--port 8787] [--mock] [--token-ttl SECONDS]
//
// - GET /sandbox           -> dist/index.html   (Cache-Control: no-cache)
// - GET /sandbox/assets/X  -> dist/assets/X     (immutable), br/gzip by Accept-Encoding
// - every response carries the gateway's Content-Security-Policy.
// With --mock, it also fakes the gateway contract in memory: POST /graphql
// (a tiny schema covering the example tabs), POST /sandbox/api/tenants and
// POST /sandbox/api/token. Mock switches: request header `x-mock-rate-limit: 1`
// answers 429 with Retry-After: 7; --token-ttl sets the token lifetime.
// Binds to 127.0.0.1 only.

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildSchema, graphql } from 'graphql';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const PORT = Number(option('--port', '8787'));
const MOCK = flag('--mock');
const TOKEN_TTL_S = Number(option('--token-ttl', '3600'));

// ---------------------------------------------------------------- static files

const manifest = JSON.parse(readFileSync(join(DIST, 'manifest.json'), 'utf8'));
const routes = new Map();
for (const file of manifest.files) {
  const entry = {
    ...file,
    body: readFileSync(join(DIST, file.path)),
    variants: Object.fromEntries(file.encodings.map((e) => [e.encoding, readFileSync(join(DIST, e.path))])),
  };
  routes.set(file.urlPath, entry);
  if (file.path === 'index.html') routes.set(`${file.urlPath}/`, entry);
}

function serveStatic(req, res, entry) {
  const accept = String(req.headers['accept-encoding'] ?? '');
  const encoding = /\bbr\b/.test(accept) ? 'br' : /\bgzip\b/.test(accept) ? 'gzip' : null;
  const body = encoding ? entry.variants[encoding] : entry.body;
  const headers = {
    'content-type': entry.contentType,
    'cache-control': entry.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    etag: `"${entry.sha256.slice(0, 32)}"`,
    vary: 'accept-encoding',
    'content-length': body.length,
  };
  if (encoding) headers['content-encoding'] = encoding;
  if (req.headers['if-none-match'] === headers.etag) {
    res.writeHead(304, { etag: headers.etag, 'cache-control': headers['cache-control'] });
    res.end();
    return;
  }
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

// ---------------------------------------------------------------- mock gateway

const schema = buildSchema(`
  enum ComplianceStatus { COMPLIANT AT_RISK NON_COMPLIANT }
  type Compliance { reason: String }
  type Location { id: ID! storeNumber: String! name: String! complianceStatus: ComplianceStatus! compliance: Compliance }
  input LocationFilter { complianceStatuses: [ComplianceStatus!] }
  type LocationConnection { totalCount: Int! nodes: [Location!]! }
  type Employee { id: ID! firstName: String! lastName: String! location: Location }
  type Credential { id: ID! kind: String! expiresOn: String! status: String! holder: Employee! }
  input CredentialFilter { expiringWithinDays: Int }
  type CredentialConnection { totalCount: Int! nodes: [Credential!]! }
  type RateLimit { cost: Int! limit: Int! remaining: Int! resetAt: String! }
  type Query {
    locations(first: Int, filter: LocationFilter): LocationConnection!
    credentials(first: Int, filter: CredentialFilter): CredentialConnection!
    rateLimit: RateLimit!
  }
  enum ConnectorKind { ERP HRIS }
  enum ConnectorVendor { NETSUITE SAP WORKDAY RIPPLING OTHER }
  input CreateConnectorInput { name: String! kind: ConnectorKind! vendor: ConnectorVendor! scopes: [String!]! }
  type Connector { id: ID! name: String! kind: ConnectorKind! vendor: ConnectorVendor! scopes: [String!]! }
  type ConnectorCredentials { clientId: String! apiKey: String! expiresAt: String! }
  type UserError { field: [String!] message: String! code: String }
  type CreateConnectorPayload { connector: Connector credentials: ConnectorCredentials userErrors: [UserError!]! }
  input SyncEmployeeInput { externalId: String! firstName: String! lastName: String! hireDate: String! locationStoreNumber: String! jobTitle: String }
  input SyncEmployeesInput { employees: [SyncEmployeeInput!]! }
  type SyncEmployeeResult { index: Int! externalId: String! status: String! employeeId: ID }
  type SyncEmployeesPayload { results: [SyncEmployeeResult!]! userErrors: [UserError!]! }
  type ResetSandboxPayload { ok: Boolean! }
  type Mutation {
    createConnector(input: CreateConnectorInput!): CreateConnectorPayload!
    syncEmployees(input: SyncEmployeesInput!): SyncEmployeesPayload!
    resetSandbox: ResetSandboxPayload!
  }
`);

const state = { tenants: new Map(), tokens: new Map(), keys: new Map(), apiKeys: new Map(), seq: 0 };
const LOCATIONS = [
  { id: 'loc_1', storeNumber: '0001', name: 'Downtown', complianceStatus: 'NON_COMPLIANT', compliance: { reason: 'Food handler card expired for 2 employees' } },
  { id: 'loc_2', storeNumber: '0002', name: 'Airport', complianceStatus: 'COMPLIANT', compliance: null },
  { id: 'loc_3', storeNumber: '0003', name: 'Harbor', complianceStatus: 'AT_RISK', compliance: { reason: 'Health permit expires in 12 days' } },
];

function issueToken(tenantId) {
  const token = `mock-token-${++state.seq}-${tenantId}`;
  const expiresAt = new Date(Date.now() + TOKEN_TTL_S * 1000).toISOString();
  state.tokens.set(token, { tenantId, expiresAt });
  return { token, tokenExpiresAt: expiresAt };
}

function bearer(req) {
  const match = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
  return match ? match[1].trim() : null;
}

function principal(req) {
  const credential = bearer(req);
  if (!credential) return null;
  const token = state.tokens.get(credential);
  if (token && Date.parse(token.expiresAt) > Date.now()) return { tenantId: token.tenantId, kind: 'user' };
  const apiKey = state.apiKeys.get(credential);
  if (apiKey) return { tenantId: apiKey.tenantId, kind: 'connector', scopes: apiKey.scopes };
  return null;
}

const rootValue = {
  locations: ({ first = 20, filter }) => {
    const statuses = filter?.complianceStatuses;
    const nodes = LOCATIONS.filter((l) => !statuses || statuses.includes(l.complianceStatus)).slice(0, first);
    return { totalCount: nodes.length, nodes };
  },
  credentials: () => ({
    totalCount: 1,
    nodes: [
      {
        id: 'cred_1',
        kind: 'FOOD_HANDLER',
        expiresOn: '2026-12-20',
        status: 'EXPIRING',
        holder: { id: 'emp_1', firstName: 'Ana', lastName: 'Ruiz', location: LOCATIONS[0] },
      },
    ],
  }),
  rateLimit: () => ({ cost: 3, limit: 1000, remaining: 997, resetAt: new Date(Date.now() + 60_000).toISOString() }),
  createConnector: ({ input }, ctx) => {
    const userErrors = [];
    if (!input.name.trim()) userErrors.push({ field: ['input', 'name'], message: 'Name is required', code: 'REQUIRED' });
    if (input.scopes.length === 0) userErrors.push({ field: ['input', 'scopes'], message: 'At least one scope', code: 'REQUIRED' });
    if (userErrors.length) return { connector: null, credentials: null, userErrors };
    const n = ++state.seq;
    const apiKey = `prep_ck_mock_${n}_${Math.random().toString(36).slice(2, 10)}`;
    state.apiKeys.set(apiKey, { tenantId: ctx.tenantId, scopes: input.scopes });
    return {
      connector: { id: `conn_${n}`, ...input },
      credentials: { clientId: `client_${n}`, apiKey, expiresAt: new Date(Date.now() + 90 * 86400_000).toISOString() },
      userErrors: [],
    };
  },
  syncEmployees: ({ input }) => ({
    results: input.employees.map((e, index) => ({ index, externalId: e.externalId, status: 'CREATED', employeeId: `emp_${e.externalId}` })),
    userErrors: [],
  }),
  resetSandbox: () => ({ ok: true }),
};

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1_000_000) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function mockApi(req, res, path) {
  if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'BAD_REQUEST', message: 'POST only' } });
  const raw = await readBody(req);
  if (req.headers['x-mock-rate-limit'] === '1') {
    if (path === '/graphql') {
      return sendJson(res, 429, { errors: [{ message: 'Rate limited', extensions: { code: 'RATE_LIMITED', retryAfter: 7 } }] }, { 'retry-after': '7' });
    }
    return sendJson(res, 429, { error: { code: 'RATE_LIMITED', message: 'Too many requests' } }, { 'retry-after': '7' });
  }
  if (path === '/sandbox/api/tenants') {
    await new Promise((r) => setTimeout(r, 1200)); // seeding takes a moment
    const n = ++state.seq;
    const tenant = { id: `ten_${n}`, slug: `sbx-mock${n}`, name: `Sandbox ${n}` };
    const sandboxKey = `prep_sbx_mock_${n}`;
    state.tenants.set(tenant.id, tenant);
    state.keys.set(sandboxKey, tenant.id);
    return sendJson(res, 201, { tenant, sandboxKey, ...issueToken(tenant.id) });
  }
  if (path === '/sandbox/api/token') {
    const tenantId = state.keys.get(bearer(req) ?? '');
    if (!tenantId) return sendJson(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'Unknown sandbox key' } });
    return sendJson(res, 200, { tenant: state.tenants.get(tenantId), ...issueToken(tenantId) });
  }
  // /graphql
  let params;
  try {
    params = JSON.parse(raw);
  } catch {
    return sendJson(res, 400, { errors: [{ message: 'Body is not JSON', extensions: { code: 'BAD_USER_INPUT' } }] });
  }
  const who = principal(req);
  if (!who) {
    return sendJson(res, 401, { errors: [{ message: 'Missing, expired or unknown credential', extensions: { code: 'UNAUTHENTICATED' } }] });
  }
  const result = await graphql({
    schema,
    source: params.query ?? '',
    rootValue,
    contextValue: who,
    variableValues: params.variables ?? undefined,
    operationName: params.operationName ?? undefined,
  });
  const body = JSON.parse(JSON.stringify(result));
  body.extensions = {
    ...(body.extensions ?? {}),
    cost: { requestedQueryCost: 12, actualQueryCost: 9, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 991, restoreRate: 50 } },
  };
  return sendJson(res, 200, body);
}

// ---------------------------------------------------------------- server

const server = createServer(async (req, res) => {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  try {
    if (MOCK && (path === '/graphql' || path === '/sandbox/api/tenants' || path === '/sandbox/api/token')) {
      return await mockApi(req, res, path);
    }
    const entry = routes.get(path);
    if (entry && (req.method === 'GET' || req.method === 'HEAD')) return serveStatic(req, res, entry);
    if (path === '/') {
      res.writeHead(302, { location: '/sandbox' });
      return res.end();
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  } catch (error) {
    sendJson(res, 500, { error: { code: 'INTERNAL', message: String(error?.message ?? error) } });
  }
});

server.listen(PORT, '127.0.0.1', () => {
  console.log(`playground at http://127.0.0.1:${PORT}/sandbox${MOCK ? ' (mock gateway on)' : ''}`);
});
