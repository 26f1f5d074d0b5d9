#!/usr/bin/env node
// The compiled daemon; `npm install` builds it (the `prepare` script).
import '../dist/main.js';
