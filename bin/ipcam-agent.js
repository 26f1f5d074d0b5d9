#!/usr/bin/env node
// The compiled daemon; `npm install` builds it (the `prepare` script, scripts/build.mjs).
import '../dist/bundle/main.js';
