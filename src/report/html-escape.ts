// Everything a report shows from a recording (command lines, addresses, ids, messages) is untrusted
// text: it goes through here on its way into the page.

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** text content and quoted attribute values */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML[c]!);
}

/**
 * JSON inside <script type="application/json">: the only way out of a script element is `</`, and
 * U+2028/2029 are escaped for older parsers; `<` covers `<!--` and `</script` both.
 */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
