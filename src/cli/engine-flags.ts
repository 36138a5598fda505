/**
 * Imported first by every entry point (the CLI, the benchmark, the refit search). The
 * simulation's hot path is a chain of small methods — an event, the guest, the lock algorithm,
 * the statistics, the timer and the queue — and the engine inlines callees into an optimised
 * function only up to a budget of bytecode (920 bytes by default in Node 20); past it they stay
 * calls. With a budget of 3000 the path compiles into fewer, larger functions: 8 guests × 8 vCPUs
 * ran 5.56 against 5.05 simulated s per wall s, the ticket lock's default guest 150–154 against
 * 127–132, 64 vCPUs 5.7–6.2 against 5.5 (fresh processes, alternating; 2000, 4000, 6000 and
 * 12000 measured no better or worse). The flag changes how fast the code runs, never what it
 * computes. The engine reads it whenever it compiles, so it is set before anything is compiled.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--max-inlined-bytecode-size-cumulative=3000');
