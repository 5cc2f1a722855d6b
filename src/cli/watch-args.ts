// The CLI's name for what a watch runs with; the plan itself is the watch's (src/watch/watch-plan.ts).
export type { WatchArgs } from '../watch/watch-plan';
