// Everything a report shows from a recording (command lines, addresses, ids, messages) is untrusted
// text: it goes through here on its way into the page.

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** text content and quoted attribute values */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML[c]!);
}
