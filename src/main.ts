#!/usr/bin/env node
// The `waypoint` command line's entry point. Node parses a whole static import graph before it runs any of
// it, and parsing the program's few hundred modules already grows V8's young generation: so this holds the
// young generation first (`waypoint run`; src/cli/young-generation-hold.ts), then loads the program.
import './cli/young-generation-hold.js';

await import('./cli/program.js');
