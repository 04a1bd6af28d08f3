import { useState } from 'react';
import { useEditorContext } from '@graphiql/react';

import {
  CONNECTOR_KINDS,
  CONNECTOR_SCOPES,
  CONNECTOR_VENDORS,
  CREATE_CONNECTOR_MUTATION,
  DEFAULT_CONNECTOR_SCOPES,
} from './contract.js';
import { copyText } from './copy.js';
import { formatExpiry } from './time.js';
import { useModalDialog } from './useModalDialog.js';

function describeErrors(result) {
  const errors = Array.isArray(result?.errors) ? result.errors : [];
  return errors.map((e) => {
    const code = e?.extensions?.code;
    return `${e?.message ?? 'Unknown error'}${code ? ` [${code}]` : ''}`;
  });
}

/** A read-only value with a copy button. */
function SecretField({ id, label, value, testId, dialogRef }) {
  const [copied, setCopied] = useState(null);
  const copy = async () => {
    const ok = await copyText(value, dialogRef.current ?? document.body);
    setCopied(ok ? 'Copied' : 'Copy failed: select the text and copy it by hand');
  };
  return (
    <div className="pg-field">
      <label htmlFor={id}>{label}</label>
      <div className="pg-secret">
        <input
          id={id}
          type="text"
          readOnly
          value={value}
          data-testid={testId}
          spellCheck={false}
          autoComplete="off"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" className="pg-button" data-testid={`${testId}-copy`} onClick={copy}>
          Copy
        </button>
      </div>
      <span className="pg-hint" aria-live="polite">
        {copied}
      </span>
    </div>
  );
}

export function ConnectorDialog({ onClose, requestAsSandbox, setBanner }) {
  const ref = useModalDialog(onClose);
  const editorContext = useEditorContext();

  const [name, setName] = useState('Sandbox HRIS connector');
  const [kind, setKind] = useState('HRIS');
  const [vendor, setVendor] = useState('WORKDAY');
  const [scopes, setScopes] = useState(() => new Set(DEFAULT_CONNECTOR_SCOPES));
  const [pending, setPending] = useState(false);
  const [errors, setErrors] = useState([]);
  // The created connector and its credentials: held only while this dialog
  // is open, so the API key is shown exactly once.
  const [created, setCreated] = useState(null);

  const toggleScope = (scope) => {
    setScopes((current) => {
      const next = new Set(current);
      if (next.has(scope)) next.delete(scope);
      else next.add(scope);
      return next;
    });
  };

  const submit = async (event) => {
    event.preventDefault();
    const trimmed = name.trim();
    const chosen = CONNECTOR_SCOPES.filter((s) => scopes.has(s));
    const problems = [];
    if (!trimmed) problems.push('Give the connector a name.');
    if (chosen.length === 0) problems.push('Choose at least one scope.');
    if (problems.length) {
      setErrors(problems);
      return;
    }
    setPending(true);
    setErrors([]);
    try {
      const { result } = await requestAsSandbox(CREATE_CONNECTOR_MUTATION, {
        input: { name: trimmed, kind, vendor, scopes: chosen },
      });
      const payload = result?.data?.createConnector;
      const userErrors = Array.isArray(payload?.userErrors) ? payload.userErrors : [];
      if (describeErrors(result).length) {
        setErrors(describeErrors(result));
      } else if (userErrors.length) {
        setErrors(
          userErrors.map(
            (e) =>
              `${Array.isArray(e.field) ? e.field.join('.') : e.field ?? 'input'}: ${e.message}${e.code ? ` [${e.code}]` : ''}`,
          ),
        );
      } else if (payload?.credentials?.apiKey) {
        setCreated({ connector: payload.connector ?? {}, credentials: payload.credentials });
      } else {
        setErrors(['The gateway answered without credentials.']);
      }
    } catch (error) {
      setErrors([error?.message || String(error)]);
    } finally {
      setPending(false);
    }
  };

  const applyKeyToEditor = () => {
    const headerEditor = editorContext?.headerEditor;
    if (!headerEditor) {
      setErrors(['The headers editor is not ready yet; try again in a moment.']);
      return;
    }
    let others = {};
    try {
      const parsed = JSON.parse(headerEditor.getValue() || '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) others = parsed;
    } catch {
      // Invalid JSON in the editor: it is replaced.
    }
    for (const key of Object.keys(others)) {
      if (key.toLowerCase() === 'authorization') delete others[key];
    }
    const headers = { Authorization: `Bearer ${created.credentials.apiKey}`, ...others };
    headerEditor.setValue(JSON.stringify(headers, null, 2));
    setBanner({
      kind: 'info',
      text:
        'The Headers editor of this tab now sends the connector API key, so operations run exactly as the ' +
        'connector would. Remove the Authorization header to go back to your sandbox token.',
    });
    onClose();
    // Show the Headers editor (GraphiQL keeps which tool is open internally).
    window.requestAnimationFrame(() => {
      document.querySelector('.graphiql-editor-tools button[data-name="headers"]')?.click();
    });
  };

  return (
    <dialog
      ref={ref}
      className="pg-dialog"
      data-testid="connector-dialog"
      aria-labelledby="pg-connector-title"
      aria-busy={pending}
    >
      <h2 id="pg-connector-title" className="pg-dialog-title">
        Connector credentials
      </h2>

      {created ? (
        <div className="pg-dialog-body" data-testid="connector-created">
          <p>
            Connector <strong>{created.connector.name ?? name}</strong>
            {created.connector.id && (
              <>
                {' '}
                (<code>{created.connector.id}</code>)
              </>
            )}{' '}
            was created with the scopes{' '}
            <code>{(created.connector.scopes ?? []).join(', ') || CONNECTOR_SCOPES.filter((s) => scopes.has(s)).join(', ')}</code>.
          </p>
          <p className="pg-warning" role="note">
            Copy the API key now: it is shown only this once and cannot be retrieved later. If you lose it, create
            another connector.
          </p>
          <SecretField
            id="pg-connector-client-id"
            label="Client ID"
            value={created.credentials.clientId ?? ''}
            testId="connector-client-id"
            dialogRef={ref}
          />
          <SecretField
            id="pg-connector-api-key"
            label="API key"
            value={created.credentials.apiKey}
            testId="connector-api-key"
            dialogRef={ref}
          />
          {created.credentials.expiresAt && (
            <p className="pg-hint" data-testid="connector-expires">
              Expires {formatExpiry(created.credentials.expiresAt)} ({created.credentials.expiresAt})
            </p>
          )}
          <div className="pg-dialog-footer">
            <button
              type="button"
              className="pg-button"
              data-testid="connector-create-another-button"
              onClick={() => {
                setCreated(null);
                setErrors([]);
              }}
            >
              Create another
            </button>
            <button type="button" className="pg-button" data-testid="connector-close-button" onClick={onClose}>
              Done
            </button>
            <button
              type="button"
              className="pg-button pg-button--primary"
              data-testid="connector-use-key-button"
              onClick={applyKeyToEditor}
            >
              Use this key in the editor
            </button>
          </div>
        </div>
      ) : (
        <form className="pg-dialog-body" onSubmit={submit} noValidate>
          <p className="pg-hint">
            Creates a connector in your sandbox tenant and issues its API credentials, with exactly the scopes you
            choose. Use them to call the gateway as your integration would.
          </p>
          <div className="pg-field">
            <label htmlFor="pg-connector-name">Name</label>
            <input
              id="pg-connector-name"
              type="text"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={200}
              data-testid="connector-name-input"
              autoComplete="off"
            />
          </div>
          <div className="pg-field-row">
            <div className="pg-field">
              <label htmlFor="pg-connector-kind">Kind</label>
              <select
                id="pg-connector-kind"
                value={kind}
                onChange={(e) => setKind(e.target.value)}
                data-testid="connector-kind-select"
              >
                {CONNECTOR_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
            </div>
            <div className="pg-field">
              <label htmlFor="pg-connector-vendor">Vendor</label>
              <select
                id="pg-connector-vendor"
                value={vendor}
                onChange={(e) => setVendor(e.target.value)}
                data-testid="connector-vendor-select"
              >
                {CONNECTOR_VENDORS.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <fieldset className="pg-scopes">
            <legend>Scopes</legend>
            {CONNECTOR_SCOPES.map((scope) => {
              const id = `pg-scope-${scope.replace(':', '-')}`;
              return (
                <div className="pg-check" key={scope}>
                  <input
                    id={id}
                    type="checkbox"
                    checked={scopes.has(scope)}
                    onChange={() => toggleScope(scope)}
                    data-testid={`connector-scope-${scope}`}
                    value={scope}
                  />
                  <label htmlFor={id}>
                    <code>{scope}</code>
                  </label>
                </div>
              );
            })}
          </fieldset>
          {errors.length > 0 && (
            <div className="pg-form-errors" role="alert" data-testid="connector-errors">
              <ul>
                {errors.map((e, i) => (
                  <li key={i}>{e}</li>
                ))}
              </ul>
            </div>
          )}
          <div className="pg-dialog-footer">
            <button type="button" className="pg-button" data-testid="connector-cancel-button" onClick={onClose}>
              Cancel
            </button>
            <button
              type="submit"
              className="pg-button pg-button--primary"
              data-testid="connector-submit-button"
              disabled={pending}
            >
              {pending && <span className="pg-spinner" aria-hidden="true" />}
              {pending ? 'Creating…' : 'Create credentials'}
            </button>
          </div>
        </form>
      )}
      {created && errors.length > 0 && (
        <div className="pg-form-errors" role="alert" data-testid="connector-errors">
          <ul>
            {errors.map((e, i) => (
              <li key={i}>{e}</li>
            ))}
          </ul>
        </div>
      )}
    </dialog>
  );
}
