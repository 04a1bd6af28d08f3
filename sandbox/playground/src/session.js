// The developer's sandbox session, persisted in localStorage under
// `prep.sandbox` as `{tenant, sandboxKey, token, tokenExpiresAt}`.
import { SESSION_STORAGE_KEY, TOKEN_EXPIRY_SKEW_MS } from './contract.js';

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns a normalized session, or null if `value` is not a usable one. */
export function normalizeSession(value) {
  if (!isObject(value)) return null;
  const { tenant, sandboxKey, token, tokenExpiresAt } = value;
  if (typeof sandboxKey !== 'string' || sandboxKey === '') return null;
  return {
    tenant: isObject(tenant)
      ? {
          id: String(tenant.id ?? ''),
          slug: String(tenant.slug ?? ''),
          name: String(tenant.name ?? ''),
        }
      : { id: '', slug: '', name: '' },
    sandboxKey,
    token: typeof token === 'string' && token !== '' ? token : null,
    tokenExpiresAt: typeof tokenExpiresAt === 'string' ? tokenExpiresAt : null,
  };
}

export function loadSession() {
  try {
    const raw = window.localStorage.getItem(SESSION_STORAGE_KEY);
    return raw ? normalizeSession(JSON.parse(raw)) : null;
  } catch {
    // Storage disabled or corrupt entry: behave as if nothing was stored.
    return null;
  }
}

export function saveSession(session) {
  try {
    if (session) {
      window.localStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
    } else {
      window.localStorage.removeItem(SESSION_STORAGE_KEY);
    }
  } catch {
    // Storage may be disabled (private mode, policy); the page still works
    // for this visit.
  }
}

/** Milliseconds since the epoch, or NaN. */
export function expiryMillis(session) {
  return session?.tokenExpiresAt ? Date.parse(session.tokenExpiresAt) : NaN;
}

/** True if the session has a token that is still valid for a while. */
export function hasValidToken(session, now = Date.now()) {
  if (!session?.token) return false;
  const expiry = expiryMillis(session);
  // An unparsable expiry is treated as valid; the gateway has the last word.
  return Number.isNaN(expiry) || expiry - TOKEN_EXPIRY_SKEW_MS > now;
}
