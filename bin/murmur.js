#!/usr/bin/env node
// `node bin/murmur.js ...` in a checkout: the same command as the package's `bin` (bin/murmur.cjs).
import './murmur.cjs';
