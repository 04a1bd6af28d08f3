import { useModalDialog } from './useModalDialog.js';

/** A small modal asking to confirm a destructive action. */
export function ConfirmDialog({ title, children, confirmLabel, testId, onConfirm, onCancel }) {
  const ref = useModalDialog(onCancel);
  return (
    <dialog ref={ref} className="pg-dialog pg-dialog--narrow" data-testid={testId} aria-labelledby={`${testId}-title`}>
      <h2 id={`${testId}-title`} className="pg-dialog-title">
        {title}
      </h2>
      <div className="pg-dialog-body">{children}</div>
      <div className="pg-dialog-footer">
        <button type="button" className="pg-button" data-testid={`${testId}-cancel`} onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button
          type="button"
          className="pg-button pg-button--danger-solid"
          data-testid={`${testId}-confirm`}
          onClick={onConfirm}
        >
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
