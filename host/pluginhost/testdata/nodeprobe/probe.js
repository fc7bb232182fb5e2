'use strict';
// The interpreter sandbox's probe, run by node as an interpreted plugin: it tries what the
// sandbox must refuse (read a file outside its read paths, execute a program) and what it must
// allow (read beneath a read path), writes one line per try to stderr and exits before
// go-plugin's handshake, so the host's start error carries the lines (TestNodeSandbox).
const fs = require('fs');
const { execFileSync } = require('child_process');
function attempt(name, f) {
  try {
    f();
    process.stderr.write(`probe ${name}: ok\n`);
  } catch (e) {
    process.stderr.write(`probe ${name}: ${e.code || e.message}\n`);
  }
}
attempt('secret', () => fs.readFileSync(process.env.PROBE_SECRET));
attempt('allowed', () => fs.readFileSync(process.env.PROBE_ALLOWED));
attempt('exec', () => execFileSync('/bin/sh', ['-c', 'true']));
attempt('self', () => fs.readFileSync('/proc/self/fd/3'));
process.exit(1);
