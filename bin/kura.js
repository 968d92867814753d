#!/usr/bin/env -S node --initial-old-space-size=128
// The V8 flag: see "Tuning" in README.md (fewer full GCs while streaming large objects).
// The compiled CLI lives in dist/ (`npm run build`, run by `npm start`).
import { runCli } from '../dist/src/cli.js';

await runCli(process.argv);
