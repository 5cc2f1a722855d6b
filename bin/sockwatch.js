#!/usr/bin/env node
'use strict';
require('../dist/src/cli/fast-snapshot.js').mainFast(process.argv);
