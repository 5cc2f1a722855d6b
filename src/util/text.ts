/**
 * Command lines and names may hold newlines and control characters (`node -e '…'`); a header or
 * log line must stay one line, so runs of them (and of white space) become one space.
 */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim();
}
