// What each demo loop does and teaches. Shared by the demo's client child and the CLI's banner.
export type DemoLoop = 'keepalive' | 'churn' | 'leak';
export const DEMO_LOOPS: readonly DemoLoop[] = ['keepalive', 'churn', 'leak'];

/** One line each, short enough for the demo banner at 80 columns; the README tells the story. */
export const LESSONS: Record<DemoLoop, string> = {
  keepalive: 'body drained, closed → 1 connection, reused',
  churn: 'body abandoned undrained → new conn per request',
  leak: 'never read → they pile up, then CLOSE_WAIT',
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
