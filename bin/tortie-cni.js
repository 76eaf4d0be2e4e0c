#!/usr/bin/env node
// The CNI network plugin (Calico's `calico`): install it (or a symlink) as `tortie` in the CNI
// plugin directory. Runs the bundled build (dist/cni/bundle/) for start-up speed.
import { cniMain, processIo } from '../dist/cni/bundle/main.js';

process.exitCode = await cniMain(processIo(), 'network');
