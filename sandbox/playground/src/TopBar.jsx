import { useEffect, useState } from 'react';

import { ConfirmDialog } from './ConfirmDialog.jsx';
import { ConnectorDialog } from './ConnectorDialog.jsx';
import { hasValidToken } from './session.js';
import { formatExpiry, formatRemaining } from './time.js';

/** Re-renders every `intervalMs` so relative times stay current. */
function useNow(intervalMs) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function formatNumber(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toLocaleString() : '?';
}

/** "cost 12 → 9 · budget 991/1000 (+50/s)" from `extensions.cost`. */
function CostSummary({ cost }) {
  if (!cost) return null;
  const throttle = cost.throttleStatus ?? {};
  const title =
    `Last response's extensions.cost: requestedQueryCost ${formatNumber(cost.requestedQueryCost)}, ` +
    `actualQueryCost ${formatNumber(cost.actualQueryCost)}, ` +
    `throttleStatus.currentlyAvailable ${formatNumber(throttle.currentlyAvailable)} of ` +
    `maximumAvailable ${formatNumber(throttle.maximumAvailable)}, restoreRate ${formatNumber(throttle.restoreRate)}/s`;
  return (
    <span className="pg-bar-item pg-cost" data-testid="cost-summary" title={title}>
      <span className="pg-label">Cost</span> {formatNumber(cost.requestedQueryCost)} req. /{' '}
      {formatNumber(cost.actualQueryCost)} actual
      {throttle.maximumAvailable !== undefined && (
        <>
          {' '}
          · <span className="pg-label">budget</span> {formatNumber(throttle.currentlyAvailable)}/
          {formatNumber(throttle.maximumAvailable)}
          {throttle.restoreRate !== undefined && <> (+{formatNumber(throttle.restoreRate)}/s)</>}
        </>
      )}
    </span>
  );
}

function TokenStatus({ session, keyInvalid, busy }) {
  const now = useNow(15_000);
  let text;
  let state;
  if (busy === 'token') {
    text = 'renewing…';
    state = 'pending';
  } else if (!session.token) {
    text = 'none';
    state = 'expired';
  } else if (hasValidToken(session, now)) {
    const remaining = formatRemaining(session.tokenExpiresAt, now);
    text = `expires ${formatExpiry(session.tokenExpiresAt, now)}${remaining ? ` (${remaining})` : ''}`;
    state = 'valid';
  } else {
    text = `expired ${formatExpiry(session.tokenExpiresAt, now)}`;
    state = 'expired';
  }
  return (
    <span className="pg-bar-item" data-testid="token-status" data-state={keyInvalid ? 'key-invalid' : state}>
      <span className="pg-label">Token</span>{' '}
      <span className={`pg-token pg-token--${state}`} data-testid="token-expiry">
        {text}
      </span>
    </span>
  );
}

export function TopBar({
  session,
  keyInvalid,
  busy,
  cost,
  onCreate,
  onNewToken,
  onReset,
  requestAsSandbox,
  setBanner,
}) {
  const [dialog, setDialog] = useState(null); // null | 'connector' | 'reset'
  const isBusy = busy !== null;
  const showCreate = session === null || keyInvalid;
  const canUseSandbox = session !== null && !keyInvalid;
  const tenant = session?.tenant;

  return (
    <header className="pg-bar" data-testid="top-bar">
      <h1 className="pg-brand">Prep Gateway sandbox</h1>

      <div className="pg-bar-info">
        {session ? (
          <>
            <span className="pg-bar-item" data-testid="tenant">
              <span className="pg-label">Tenant</span>{' '}
              <code className="pg-slug" data-testid="tenant-slug" title={tenant?.name || undefined}>
                {tenant?.slug || tenant?.id || 'unknown'}
              </code>
            </span>
            <TokenStatus session={session} keyInvalid={keyInvalid} busy={busy} />
            <CostSummary cost={cost} />
          </>
        ) : (
          <span className="pg-bar-item pg-muted" data-testid="tenant">
            No sandbox yet
          </span>
        )}
      </div>

      <nav className="pg-bar-actions" aria-label="Sandbox actions">
        {showCreate && (
          <button
            type="button"
            className="pg-button pg-button--primary"
            data-testid="create-sandbox-button"
            id="pg-create-sandbox"
            onClick={onCreate}
            disabled={isBusy}
            aria-busy={busy === 'create'}
          >
            {busy === 'create' && <span className="pg-spinner" aria-hidden="true" />}
            {busy === 'create' ? 'Creating sandbox…' : session ? 'Create a new sandbox' : 'Create my sandbox'}
          </button>
        )}
        {canUseSandbox && (
          <>
            <button
              type="button"
              className="pg-button"
              data-testid="new-token-button"
              id="pg-new-token"
              onClick={onNewToken}
              disabled={isBusy}
              aria-busy={busy === 'token'}
            >
              New token
            </button>
            <button
              type="button"
              className="pg-button"
              data-testid="connector-dialog-button"
              id="pg-connector-credentials"
              onClick={() => setDialog('connector')}
              disabled={isBusy}
              aria-haspopup="dialog"
            >
              Connector credentials…
            </button>
            <button
              type="button"
              className="pg-button pg-button--danger"
              data-testid="reset-button"
              id="pg-reset-sandbox"
              onClick={() => setDialog('reset')}
              disabled={isBusy}
              aria-haspopup="dialog"
              aria-busy={busy === 'reset'}
            >
              Reset sandbox
            </button>
          </>
        )}
      </nav>

      {dialog === 'connector' && (
        <ConnectorDialog
          onClose={() => setDialog(null)}
          requestAsSandbox={requestAsSandbox}
          setBanner={setBanner}
        />
      )}
      {dialog === 'reset' && (
        <ConfirmDialog
          title="Reset the sandbox?"
          confirmLabel="Reset sandbox"
          testId="reset-dialog"
          onCancel={() => setDialog(null)}
          onConfirm={() => {
            setDialog(null);
            onReset();
          }}
        >
          <p>
            This puts the sandbox tenant <code>{tenant?.slug || tenant?.id}</code> back to its seed data. Everything
            you created or changed in it since then is lost.
          </p>
        </ConfirmDialog>
      )}
    </header>
  );
}
