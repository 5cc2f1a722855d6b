// What each demo loop does and teaches. Shared by the demo's client child and the CLI's banner.
export type DemoLoop = 'keepalive' | 'churn' | 'leak';
export const DEMO_LOOPS: readonly DemoLoop[] = ['keepalive', 'churn', 'leak'];

export const LESSONS: Record<DemoLoop, string> = {
  keepalive: 'body read to the end and closed → one connection, reused by every request (exchanges grow, it never closes)',
  churn: 'body abandoned undrained → the connection cannot be reused: a new one per request (open, close, open…)',
  leak: 'responses never read nor closed → every request holds its connection: the live count only grows, and once the server gives up (5 s) they sit in CLOSE_WAIT',
};

/** Timings, compressed from the seed story (a request every 45 s, a keep-alive probe 30 s later). */
export const DEMO_TIMING = {
  keepaliveEveryMs: 1000,
  /** TCP keep-alive idle time set on the keep-alive client's socket: the TIMER column counts it down */
  tcpKeepAliveMs: 3000,
  churnEveryMs: 700,
  /** how long the churn client holds each undrained response before abandoning it */
  churnHoldMs: 400,
  leakEveryMs: 700,
  /** stop leaking after this many, so a forgotten demo stays harmless */
  leakMax: 60,
  /** the servers close connections idle this long; a leaked one then lingers in CLOSE_WAIT */
  serverIdleTimeoutMs: 5000,
} as const;
