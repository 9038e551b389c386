/**
 * Safe text for people: every string a run takes from a scenario or an engine (a case's name, a claim, a
 * node's label) goes through here before it is shown, on a terminal, in Markdown, HTML, SVG or XML. A
 * control character (C0 but tab and newline, DEL, C1) would move a terminal's cursor or change its colours
 * (ESC[31m), and XML 1.0 forbids most of them even escaped: each becomes a visible "\x1b". A bidi override
 * would reorder what is shown around it: "\u202e". What is no character at all (U+FFFE, U+FFFF, half a
 * surrogate pair) becomes U+FFFD. Tabs and newlines stay: each writer keeps its own lines. Idempotent.
 */
export function safeText(value: string | number): string {
  return String(value).replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    if (code <= 0x9f) return `\\x${code.toString(16).padStart(2, '0')}`;
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return `\\u${code.toString(16)}`;
    return '\uFFFD';
  });
}

// C0 but \t and \n; DEL and C1; bidi embeddings, overrides and isolates; U+FFFE, U+FFFF; lone surrogates.
const UNSAFE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Every string from a results file goes through here before it reaches HTML, SVG or XML: text and attributes. */
export function escapeHtml(value: string | number): string {
  return safeText(value).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/**
 * The same value with every string in it (keys too) made safe: for a view that paints its own escape
 * sequences around what it shows (the terminal's colours), and so cannot make the finished text safe.
 */
export function safeStrings<T>(value: T): T {
  if (typeof value === 'string') return safeText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => safeStrings(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [safeText(k), safeStrings(v)])) as T;
  return value;
}
