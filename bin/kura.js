#!/usr/bin/env node
// The compiled CLI lives in dist/ (`npm run build`, run by `npm start`).
import { runCli } from '../dist/src/cli.js';

await runCli(process.argv);
