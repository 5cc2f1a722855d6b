// What FC_SEED asks for (see fast-check-seed.ts, which applies it); no side effect, so a test can
// import it without configuring fast-check itself.
export const DEFAULT_SEED = 20261207;

/** the seed to draw from, or undefined for a fresh draw ("random") */
export function seedFrom(raw: string | undefined): number | undefined {
  if (raw === 'random') return undefined;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`FC_SEED must be an integer or "random", not ${JSON.stringify(raw)}`);
  return n | 0;
}
