import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { GraphiQLInterface, GraphiQLProvider } from 'graphiql';

import {
  SandboxApiError,
  buildHeaders,
  createSandbox,
  errorCodes,
  errorRetryAfter,
  issueToken,
  parseRetryAfter,
  postGraphQL,
} from './api.js';
import { RESET_SANDBOX_MUTATION, SESSION_STORAGE_KEY } from './contract.js';
import { EXAMPLE_TABS } from './examples.js';
import { hasValidToken, loadSession, saveSession } from './session.js';
import { formatExpiry } from './time.js';
import { Banner } from './Banner.jsx';
import { StaleSchemaErrorCleaner } from './StaleSchemaErrorCleaner.jsx';
import { TopBar } from './TopBar.jsx';

export const INVALID_KEY_MESSAGE =
  'This sandbox key is no longer valid (expired or not a sandbox credential). Create a new sandbox.';

const INTROSPECTION_OPERATION = 'IntrospectionQuery';

/** Banner kinds that describe the last GraphQL call and go away once a call succeeds. */
const TRANSIENT_KINDS = new Set(['auth', 'rate', 'network']);

function authBanner(authSource, hasSandboxKey) {
  if (authSource === 'editor') {
    return {
      kind: 'auth',
      text:
        'The gateway rejected the Authorization header from the Headers editor: the credential is expired, revoked, ' +
        'or belongs to another tenant. Fix or remove that header (without it, your sandbox token is used).',
      action: hasSandboxKey ? 'new-token' : 'create',
    };
  }
  if (authSource === 'sandbox') {
    return {
      kind: 'auth',
      text:
        'The gateway rejected your sandbox token: it has expired or is not valid for this gateway (a foreign or ' +
        'revoked token). Get a new token and run the operation again.',
      action: hasSandboxKey ? 'new-token' : 'create',
    };
  }
  return {
    kind: 'auth',
    text:
      'Not signed in: create your sandbox to get a seeded tenant and a token, or put an Authorization header in ' +
      'the Headers editor.',
    action: 'create',
  };
}

function rateBanner(seconds, prefix = '') {
  return {
    kind: 'rate',
    text: prefix,
    retryUntil: typeof seconds === 'number' ? Date.now() + seconds * 1000 : null,
  };
}

function apiErrorBanner(error, what) {
  if (error instanceof SandboxApiError && (error.status === 429 || error.code === 'RATE_LIMITED')) {
    return rateBanner(error.retryAfter, `${what}: `);
  }
  const code = error?.code && error.code !== 'NETWORK' ? ` [${error.code}]` : '';
  return { kind: 'error', text: `${what}: ${error?.message || String(error)}${code}` };
}

export function App() {
  const [session, setSessionState] = useState(loadSession);
  const sessionRef = useRef(session);
  const [keyInvalid, setKeyInvalidState] = useState(false);
  const keyInvalidRef = useRef(false);
  const [busy, setBusy] = useState(null); // null | 'create' | 'token' | 'reset'
  const [banner, setBanner] = useState(() =>
    session
      ? null
      : {
          kind: 'info',
          text:
            'Welcome! Click “Create my sandbox” to get your own sandbox tenant, seeded with demo data, and a token. ' +
            'Then pick an example tab and press Run.',
        },
  );
  const [cost, setCost] = useState(null);
  const refreshRef = useRef(null);

  const setSession = useCallback((next) => {
    sessionRef.current = next;
    saveSession(next);
    setSessionState(next);
  }, []);

  const setKeyInvalid = useCallback((value) => {
    keyInvalidRef.current = value;
    setKeyInvalidState(value);
  }, []);

  /** Gets a fresh token with the stored sandbox key; concurrent callers share one request. */
  const refreshToken = useCallback(
    (reason) => {
      const current = sessionRef.current;
      if (!current?.sandboxKey) return Promise.resolve(null);
      if (refreshRef.current) return refreshRef.current;
      const promise = (async () => {
        setBusy('token');
        setBanner({
          kind: 'progress',
          text: reason === 'auto' ? 'Your token has expired; getting a new one…' : 'Getting a new token…',
        });
        try {
          const next = await issueToken(current.sandboxKey, current.tenant);
          setSession(next);
          setKeyInvalid(false);
          setBanner({
            kind: 'success',
            text: `${reason === 'auto' ? 'Your previous token had expired; a new token was issued' : 'New token issued'}, valid until ${formatExpiry(next.tokenExpiresAt)}.`,
          });
          return next;
        } catch (error) {
          if (error instanceof SandboxApiError && (error.status === 401 || error.code === 'UNAUTHENTICATED')) {
            setKeyInvalid(true);
            setBanner({ kind: 'error', text: INVALID_KEY_MESSAGE, action: 'create' });
          } else {
            setBanner({ ...apiErrorBanner(error, 'Could not get a new token'), action: 'new-token' });
          }
          return null;
        } finally {
          refreshRef.current = null;
          setBusy(null);
        }
      })();
      refreshRef.current = promise;
      return promise;
    },
    [setKeyInvalid, setSession],
  );

  /** The sandbox token to send, refreshed first if it has expired. */
  const ensureToken = useCallback(async () => {
    const current = sessionRef.current;
    if (!current) return null;
    if (hasValidToken(current) || keyInvalidRef.current) return current.token;
    const next = await refreshToken('auto');
    return next?.token ?? sessionRef.current?.token ?? null;
  }, [refreshToken]);

  /** Shows banners and the cost summary for one GraphQL response. */
  const reportOutcome = useCallback(({ result, status, retryAfterHeader, authSource, introspection = false }) => {
    const codes = errorCodes(result);
    if (status === 401 || codes.includes('UNAUTHENTICATED')) {
      if (introspection && authSource === 'none') {
        // A first visit: the schema cannot load before a sandbox exists, and
        // the welcome banner already says what to do.
      } else if (authSource === 'sandbox' && keyInvalidRef.current) {
        // The token could not be renewed: say why, not just "token rejected".
        setBanner({ kind: 'error', text: INVALID_KEY_MESSAGE, action: 'create' });
      } else {
        setBanner(authBanner(authSource, Boolean(sessionRef.current?.sandboxKey) && !keyInvalidRef.current));
      }
    } else if (status === 429 || codes.includes('RATE_LIMITED')) {
      setBanner(rateBanner(parseRetryAfter(retryAfterHeader) ?? errorRetryAfter(result)));
    } else if (status === 0) {
      setBanner({
        kind: 'network',
        text: 'Could not reach the gateway at /graphql. Check that it is running, then run the operation again.',
      });
    } else {
      setBanner((current) => (current && TRANSIENT_KINDS.has(current.kind) ? null : current));
    }
    const costInfo = result?.extensions?.cost;
    if (costInfo && typeof costInfo === 'object') setCost(costInfo);
  }, []);

  // Another browser tab created a sandbox or renewed the token: follow it.
  useEffect(() => {
    const onStorage = (event) => {
      if (event.key !== SESSION_STORAGE_KEY) return;
      const next = loadSession();
      sessionRef.current = next;
      setSessionState(next);
      if (next && hasValidToken(next)) setKeyInvalid(false);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [setKeyInvalid]);

  // On load: a stored but expired token is replaced using the sandbox key.
  useEffect(() => {
    const current = sessionRef.current;
    if (current && !hasValidToken(current)) refreshToken('auto');
  }, [refreshToken]);

  // GraphiQL re-fetches the schema whenever the fetcher changes, so the
  // fetcher is rebuilt when the token changes.
  const token = session?.token ?? null;
  const fetcher = useMemo(() => {
    const graphiqlFetcher = async (params, opts) => {
      const editorHeaders = opts?.headers ?? null;
      const editorHasAuth =
        editorHeaders && Object.keys(editorHeaders).some((key) => key.toLowerCase() === 'authorization');
      const sandboxToken = editorHasAuth ? null : await ensureToken();
      const { headers, authSource } = buildHeaders(editorHeaders, sandboxToken);
      const outcome = await postGraphQL(params, headers);
      reportOutcome({ ...outcome, authSource, introspection: params?.operationName === INTROSPECTION_OPERATION });
      return outcome.result;
    };
    return graphiqlFetcher;
    // `token` is a deliberate dependency: a new token means a new fetcher,
    // and GraphiQL then re-fetches the schema with it.
  }, [token, ensureToken, reportOutcome]);

  /** Runs an operation as the sandbox user (not with the headers editor). */
  const requestAsSandbox = useCallback(
    async (query, variables) => {
      const sandboxToken = await ensureToken();
      if (!sandboxToken) {
        throw new SandboxApiError('There is no sandbox token. Create your sandbox first.', { code: 'UNAUTHENTICATED' });
      }
      const { headers } = buildHeaders(null, sandboxToken);
      const outcome = await postGraphQL({ query, variables }, headers);
      reportOutcome({ ...outcome, authSource: 'sandbox' });
      return outcome;
    },
    [ensureToken, reportOutcome],
  );

  const handleCreate = useCallback(async () => {
    setBusy('create');
    setBanner({
      kind: 'progress',
      text: 'Creating your sandbox tenant and seeding it with demo data… this takes a few seconds.',
    });
    try {
      const next = await createSandbox();
      setSession(next);
      setKeyInvalid(false);
      setCost(null);
      setBanner({
        kind: 'success',
        text: `Sandbox ${next.tenant.slug || next.tenant.id} is ready; token valid until ${formatExpiry(next.tokenExpiresAt)}. Pick an example tab and press Run.`,
      });
    } catch (error) {
      setBanner(apiErrorBanner(error, 'Could not create the sandbox'));
    } finally {
      setBusy(null);
    }
  }, [setKeyInvalid, setSession]);

  const handleNewToken = useCallback(() => refreshToken('manual'), [refreshToken]);

  const handleReset = useCallback(async () => {
    setBusy('reset');
    setBanner({ kind: 'progress', text: 'Resetting the sandbox to its seed data…' });
    try {
      const { result } = await requestAsSandbox(RESET_SANDBOX_MUTATION, undefined);
      if (result?.data?.resetSandbox?.ok === true) {
        setBanner({ kind: 'success', text: 'The sandbox was reset to its seed data.' });
      } else {
        const codes = errorCodes(result);
        if (!codes.includes('UNAUTHENTICATED') && !codes.includes('RATE_LIMITED')) {
          const message = result?.errors?.[0]?.message ?? 'the gateway did not confirm the reset';
          setBanner({ kind: 'error', text: `The sandbox was not reset: ${message}` });
        }
      }
    } catch (error) {
      setBanner(apiErrorBanner(error, 'The sandbox was not reset'));
    } finally {
      setBusy(null);
    }
  }, [requestAsSandbox]);

  const dismissBanner = useCallback(() => setBanner(null), []);

  return (
    <GraphiQLProvider fetcher={fetcher} defaultTabs={EXAMPLE_TABS}>
      <div className="pg-app">
        <TopBar
          session={session}
          keyInvalid={keyInvalid}
          busy={busy}
          cost={cost}
          onCreate={handleCreate}
          onNewToken={handleNewToken}
          onReset={handleReset}
          requestAsSandbox={requestAsSandbox}
          setBanner={setBanner}
        />
        <Banner
          banner={banner}
          busy={busy}
          hasSession={session !== null}
          onDismiss={dismissBanner}
          onCreate={handleCreate}
          onNewToken={handleNewToken}
        />
        <StaleSchemaErrorCleaner />
        <main className="pg-graphiql" aria-label="GraphiQL">
          <GraphiQLInterface defaultEditorToolsVisibility showPersistHeadersSettings />
        </main>
      </div>
    </GraphiQLProvider>
  );
}
