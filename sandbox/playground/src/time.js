// Date formatting for the top bar and banners (the browser's locale).

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** "14:32" today, else "Dec 3, 2026, 14:32"; the raw value if unparsable. */
export function formatExpiry(iso, now = Date.now()) {
  if (!iso) return 'unknown';
  const millis = Date.parse(iso);
  if (Number.isNaN(millis)) return String(iso);
  const date = new Date(millis);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay ? timeFormat.format(date) : dateTimeFormat.format(date);
}

/** "in 58 min", "in 3 h 5 min", "in 20 s"; null once past. */
export function formatRemaining(iso, now = Date.now()) {
  const millis = Date.parse(iso ?? '');
  if (Number.isNaN(millis)) return null;
  const seconds = Math.round((millis - now) / 1000);
  if (seconds <= 0) return null;
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `in ${hours} h ${rest} min` : `in ${hours} h`;
}
