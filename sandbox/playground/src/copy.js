// Copy text to the clipboard: the async Clipboard API where the page is a
// secure context (https or localhost), else the legacy execCommand path.
// `container` must be inside an open modal <dialog>, if any (outside is inert).
export async function copyText(text, container = document.body) {
  if (window.isSecureContext && navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused: fall through to the legacy path.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'pg-offscreen';
  container.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
