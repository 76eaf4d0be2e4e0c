#!/usr/bin/env node
// The CNI IPAM plugin (Calico's `calico-ipam`): addresses only, for other network plugins.
import { cniMain, processIo } from '../dist/cni/bundle/main.js';

process.exitCode = await cniMain(processIo(), 'ipam');
