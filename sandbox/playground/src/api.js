// Calls to the gateway: the sandbox JSON endpoints and the GraphQL endpoint.
import { CREATE_SANDBOX_PATH, GRAPHQL_PATH, NEW_TOKEN_PATH } from './contract.js';
import { normalizeSession } from './session.js';

/** An error from a sandbox endpoint (or the network), with what the UI needs. */
export class SandboxApiError extends Error {
  constructor(message, { status = 0, code = 'NETWORK', retryAfter = null } = {}) {
    super(message);
    this.name = 'SandboxApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Parses a Retry-After header (delta seconds or HTTP date) into seconds. */
export function parseRetryAfter(value) {
  if (value == null || value === '') return null;
  const trimmed = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function postSandbox(path, headers = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: '{}',
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (error) {
    throw new SandboxApiError(`Could not reach the gateway (${error?.message || 'network error'}).`);
  }
  const text = await response.text().catch(() => '');
  const body = parseJson(text);
  if (!response.ok) {
    const err = body?.error ?? {};
    const code = typeof err.code === 'string' ? err.code : `HTTP_${response.status}`;
    const message =
      typeof err.message === 'string' && err.message !== ''
        ? err.message
        : `The gateway answered ${response.status} ${response.statusText}`.trim() + '.';
    throw new SandboxApiError(message, {
      status: response.status,
      code,
      retryAfter: parseRetryAfter(response.headers.get('retry-after')),
    });
  }
  if (body === null || typeof body !== 'object') {
    throw new SandboxApiError('The gateway sent a response that is not JSON.', {
      status: response.status,
      code: 'BAD_RESPONSE',
    });
  }
  return body;
}

/** POST /sandbox/api/tenants: creates a seeded sandbox tenant. */
export async function createSandbox() {
  const body = await postSandbox(CREATE_SANDBOX_PATH);
  const session = normalizeSession(body);
  if (!session || !session.token) {
    throw new SandboxApiError('The gateway response lacks sandboxKey or token.', { code: 'BAD_RESPONSE' });
  }
  return session;
}

/** POST /sandbox/api/token: a fresh user token for the sandbox key's tenant. */
export async function issueToken(sandboxKey, previousTenant) {
  const body = await postSandbox(NEW_TOKEN_PATH, { authorization: `Bearer ${sandboxKey}` });
  const session = normalizeSession({ ...body, tenant: body.tenant ?? previousTenant, sandboxKey });
  if (!session || !session.token) {
    throw new SandboxApiError('The gateway response lacks a token.', { code: 'BAD_RESPONSE' });
  }
  return session;
}

function findHeader(headers, name) {
  const lower = name.toLowerCase();
  return Object.keys(headers).find((key) => key.toLowerCase() === lower);
}

/**
 * One GraphQL POST. Never throws: a transport problem or a non-JSON answer is
 * turned into a GraphQL-shaped `{errors}` object so GraphiQL can show it.
 *
 * Returns `{ result, status, retryAfterHeader }`.
 */
export async function postGraphQL({ query, variables, operationName }, headers) {
  let response;
  try {
    response = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables: variables ?? undefined, operationName: operationName ?? undefined }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (error) {
    return {
      status: 0,
      retryAfterHeader: null,
      result: {
        errors: [
          {
            message: `Network error: could not reach ${GRAPHQL_PATH} (${error?.message || 'request failed'}).`,
            extensions: { code: 'NETWORK_ERROR' },
          },
        ],
      },
    };
  }
  const text = await response.text().catch(() => '');
  let result = parseJson(text);
  if (result === null || typeof result !== 'object') {
    result = {
      errors: [
        {
          message: `HTTP ${response.status} ${response.statusText}: the gateway sent a response that is not JSON.`,
          extensions: { code: `HTTP_${response.status}`, body: text.slice(0, 2000) },
        },
      ],
    };
  }
  return {
    result,
    status: response.status,
    retryAfterHeader: response.headers.get('retry-after'),
  };
}

/**
 * Builds the request headers: GraphiQL's headers editor wins; the sandbox
 * token is added only when the editor has no Authorization header.
 * Returns `{ headers, authSource }` where authSource is 'editor', 'sandbox'
 * or 'none'.
 */
export function buildHeaders(editorHeaders, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const fromEditor = editorHeaders && typeof editorHeaders === 'object' ? editorHeaders : {};
  for (const [key, value] of Object.entries(fromEditor)) {
    if (value === null || value === undefined) continue;
    const existing = findHeader(headers, key);
    if (existing) delete headers[existing];
    headers[key] = String(value);
  }
  if (findHeader(fromEditor, 'authorization')) return { headers, authSource: 'editor' };
  if (token) {
    headers.authorization = `Bearer ${token}`;
    return { headers, authSource: 'sandbox' };
  }
  return { headers, authSource: 'none' };
}

/** Error codes of a GraphQL response (`errors[].extensions.code`). */
export function errorCodes(result) {
  const errors = Array.isArray(result?.errors) ? result.errors : [];
  return errors.map((e) => e?.extensions?.code).filter((c) => typeof c === 'string');
}

/** `extensions.retryAfter` of the first error that has one, in seconds. */
export function errorRetryAfter(result) {
  const errors = Array.isArray(result?.errors) ? result.errors : [];
  for (const e of errors) {
    const seconds = parseRetryAfter(e?.extensions?.retryAfter);
    if (seconds !== null) return seconds;
  }
  return parseRetryAfter(result?.extensions?.retryAfter);
}
