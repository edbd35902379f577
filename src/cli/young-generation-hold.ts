// main.ts imports this module first, so that for `waypoint run` the young generation is held at its initial
// size before any other module loads (src/cli/young-generation.ts says why); run-command lets it grow to its
// cap once the waypoint serves. Other commands are short-lived and keep V8's defaults.
import { nodeFlagsOf, YoungGenerationCap } from './young-generation.js';

/** Undefined unless this process runs `waypoint run` and the user did not size the young generation. */
export const youngGenerationHold: YoungGenerationCap | undefined = process.argv[2] === 'run' ? YoungGenerationCap.hold(nodeFlagsOf(process)) : undefined;
