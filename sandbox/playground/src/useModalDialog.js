import { useEffect, useRef } from 'react';

/**
 * Opens a native <dialog> as a modal when the component mounts (focus is
 * trapped, Escape closes it) and reports every close to `onClose`.
 */
export function useModalDialog(onClose) {
  const ref = useRef(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return undefined;
    const handleClose = () => onCloseRef.current();
    dialog.addEventListener('close', handleClose);
    if (!dialog.open) dialog.showModal();
    return () => {
      dialog.removeEventListener('close', handleClose);
      if (dialog.open) dialog.close();
    };
  }, []);
  return ref;
}
