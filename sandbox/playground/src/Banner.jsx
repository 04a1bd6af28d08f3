import { useEffect, useState } from 'react';

/** Seconds left until `until` (ms since epoch), ticking once a second. */
function useCountdown(until) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!until) return undefined;
    setNow(Date.now());
    const timer = window.setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= until) window.clearInterval(timer);
    }, 1000);
    return () => window.clearInterval(timer);
  }, [until]);
  return until ? Math.max(0, Math.ceil((until - now) / 1000)) : null;
}

function bannerText(banner, secondsLeft) {
  if (banner.kind !== 'rate') return banner.text;
  const prefix = banner.text || '';
  if (secondsLeft === null) return `${prefix}Rate limited, retry in a few seconds.`;
  if (secondsLeft > 0) return `${prefix}Rate limited, retry in ${secondsLeft} s.`;
  return `${prefix}Rate limited; you can retry now.`;
}

/**
 * The status / error line under the top bar. Always in the DOM (empty and
 * hidden when there is nothing to say) so screen readers announce changes.
 * `data-kind` is one of: info, success, progress, error, auth, rate, network.
 */
export function Banner({ banner, busy, hasSession, onDismiss, onCreate, onNewToken }) {
  const secondsLeft = useCountdown(banner?.kind === 'rate' ? banner.retryUntil : null);
  const kind = banner?.kind ?? 'none';
  const urgent = kind === 'error' || kind === 'auth' || kind === 'rate' || kind === 'network';
  return (
    <div
      className={`pg-banner pg-banner--${kind}`}
      data-testid="status-banner"
      data-kind={kind}
      role={urgent ? 'alert' : 'status'}
      aria-live={urgent ? 'assertive' : 'polite'}
      hidden={!banner}
    >
      {banner && (
        <>
          {kind === 'progress' && <span className="pg-spinner" aria-hidden="true" />}
          <span className="pg-banner-text" data-testid="status-banner-text">
            {bannerText(banner, secondsLeft)}
          </span>
          <span className="pg-banner-actions">
            {banner.action === 'new-token' && (
              <button
                type="button"
                className="pg-button pg-button--primary"
                data-testid="banner-new-token-button"
                onClick={onNewToken}
                disabled={busy !== null}
              >
                New token
              </button>
            )}
            {banner.action === 'create' && (
              <button
                type="button"
                className="pg-button pg-button--primary"
                data-testid="banner-create-sandbox-button"
                onClick={onCreate}
                disabled={busy !== null}
              >
                {hasSession ? 'Create a new sandbox' : 'Create my sandbox'}
              </button>
            )}
            {kind !== 'progress' && (
              <button
                type="button"
                className="pg-button pg-button--quiet"
                data-testid="banner-dismiss-button"
                onClick={onDismiss}
                aria-label="Dismiss message"
                title="Dismiss"
              >
                ×
              </button>
            )}
          </span>
        </>
      )}
    </div>
  );
}
