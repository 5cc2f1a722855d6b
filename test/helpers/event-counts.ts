// Counts in sockwatch's own --json events, for comparing with what its metrics say.
type Json = Record<string, unknown>;

function connectionOf(e: Json): Json {
  return typeof e.connection === 'object' && e.connection !== null ? (e.connection as Json) : {};
}

/** Brief connections (seen only by their close) count as opened too; the flag may sit on the event or its connection. */
export function isBriefClose(e: Json): boolean {
  return e.type === 'close' && (e.brief === true || connectionOf(e).brief === true);
}

/** What sockwatch_connections_opened_total must equal: opens seen opening, and brief closes. */
export function openedInEvents(events: readonly Json[]): number {
  return events.filter((e) => (e.type === 'open' && connectionOf(e).preexisting !== true) || isBriefClose(e)).length;
}
