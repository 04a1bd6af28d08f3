// The gateway contract this page is written against. Keep every path, key and
// enum the page depends on in this one file.

/** GraphQL endpoint (same origin). */
export const GRAPHQL_PATH = '/graphql';

/** Sandbox JSON endpoints (same origin). */
export const CREATE_SANDBOX_PATH = '/sandbox/api/tenants';
export const NEW_TOKEN_PATH = '/sandbox/api/token';

/** localStorage key holding `{tenant, sandboxKey, token, tokenExpiresAt}`. */
export const SESSION_STORAGE_KEY = 'prep.sandbox';

/**
 * A token that expires within this many milliseconds is treated as expired,
 * so a request never leaves with a token that dies on the way.
 */
export const TOKEN_EXPIRY_SKEW_MS = 30_000;

export const CONNECTOR_KINDS = ['HRIS', 'ERP'];
export const CONNECTOR_VENDORS = ['WORKDAY', 'RIPPLING', 'NETSUITE', 'SAP', 'OTHER'];

export const CONNECTOR_SCOPES = [
  'locations:read',
  'locations:write',
  'employees:read',
  'employees:write',
  'credentials:read',
  'credentials:write',
  'permits:read',
  'permits:write',
  'inspections:read',
  'inspections:write',
  'compliance:read',
  'alerts:read',
];

/** Scopes ticked when the connector dialog opens (an HRIS sync connector). */
export const DEFAULT_CONNECTOR_SCOPES = ['locations:read', 'employees:read', 'employees:write'];

export const CREATE_CONNECTOR_MUTATION = `mutation CreateConnector($input: CreateConnectorInput!) {
  createConnector(input: $input) {
    connector { id name kind vendor scopes }
    credentials { clientId apiKey expiresAt }
    userErrors { field message code }
  }
}`;

export const RESET_SANDBOX_MUTATION = `mutation { resetSandbox { ok } }`;
