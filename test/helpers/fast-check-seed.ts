// Loaded before every test file (`node --require`, package.json's "test"): property tests draw
// from one fixed seed unless told otherwise, so that a CI verdict is the code's and not the draw's.
// FC_SEED=<integer> replays the seed a failure reported; FC_SEED=random draws afresh each run,
// which is how new counterexamples are looked for (docs/testing.md).
import fc from 'fast-check';
import { seedFrom } from './fast-check-seed-value';

const seed = seedFrom(process.env.FC_SEED);
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
